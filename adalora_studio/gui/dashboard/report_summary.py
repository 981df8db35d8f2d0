"""One line of a run's report for the finish panel (read from the newest ``report*.json``; torch-free)."""

from __future__ import annotations


def report_headline(run_dir: str) -> str:
    """``Report: accuracy 0.833, macro-F1 0.801`` (or eval loss and perplexity); empty when there is no report."""
    if not run_dir:
        return ""
    from ...core.inference import latest_report

    found = latest_report(run_dir)
    if found is None:
        return ""
    m = found[1].get("metrics", {})
    if "accuracy" in m:
        return f"<b>Report</b>: accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}, ECE {m.get('ece', 0):.3f}"
    if "exact_match" in m:  # question answering, seq2seq
        return "<b>Report</b>: " + ", ".join(f"{k} {m[k]:.2f}" for k in ("exact_match", "f1", "rougeL", "bleu", "chrf")
                                            if k in m)
    if "perplexity" in m:
        return f"<b>Report</b>: eval loss {m['eval_loss']:.4f}, perplexity {m['perplexity']:.2f}"
    return ""
