"""The ``evaluate``, ``predict`` and ``generate`` commands: use a trained run from the command line.

Each loads the adapter exactly as a user of plain peft would (:func:`core.inference.load_for_inference`), so a
command that works is also a check that the saved adapter is right. Output is for people, or JSON with ``--json``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ..core.errors import StudioError


class WrongTask(StudioError):
    """The command needs the other task (predict: classification; generate: causal LM)."""


def _checked(loaded: Any, run_dir: str, task: str, command: str) -> Any:
    if loaded.task != task:
        other = "generate" if task == "text-classification" else "predict"
        raise WrongTask(f"{run_dir} is a {loaded.task} run; `{command}` needs a {task} run (use `{other}`)")
    return loaded


def run_evaluate(run_dir: str, data: str | None, as_json: bool, known_labels_only: bool,
                 out: TextIO | None = None) -> int:
    """Evaluate a run on ``data`` (or its own eval rows); write a new report; print it. Returns 0."""
    out = out or sys.stdout
    from ..core.inference import evaluate_run

    report, path = evaluate_run(Path(run_dir), Path(data) if data else None, known_labels_only=known_labels_only)
    if as_json:
        keys = ("metrics", "per_class", "n_rows") if report["task"] != "causal-lm" else ("metrics", "samples", "n_rows")
        if report["task"] in ("question-answering", "seq2seq"):
            keys = ("metrics", "worst_examples", "n_rows")
        shown: dict[str, Any] = {k: report[k] for k in keys}
        if "confusion_matrix" in report:
            cm = report["confusion_matrix"]
            shown["confusion_matrix"] = {"labels": cm["labels"], "counts": cm["counts"]}
        print(json.dumps(shown, indent=2), file=out)
        return 0
    for line in report_lines(report):
        print(line, file=out)
    print(f"\nReport written to {path}", file=out)
    return 0


def report_lines(report: dict[str, Any]) -> list[str]:
    """A report as text for a terminal: headline metrics, per-class table or sample generations."""
    m = report["metrics"]
    lines = [f"Evaluated {report['n_rows']} rows of {report['data']['file']} with the {report['model']}."]
    left_out = report["data"].get("left_out_labels") or {}
    if left_out:
        lines.append("Left out (labels the model never saw): " + ", ".join(f"{k} ({n})" for k, n in left_out.items()))
    if report["task"] in ("question-answering", "seq2seq"):
        lines.append("   ".join(f"{k} {v:.2f}" for k, v in m.items()))
        lines.append("\nWorst examples:")
        for w in report["worst_examples"]:
            lines.append("  " + "   ".join(f"{k}: {v}" for k, v in w.items() if k not in ("id",)))
        return lines
    if report["task"] == "causal-lm":
        lines.append(f"eval loss {m['eval_loss']:.4f}   perplexity {m['perplexity']:.2f}")
        for s in report["samples"]:
            lines += ["", f"prompt:    {s['prompt']}", f"reference: {s['reference']}", f"base:      {s['base']}",
                      f"tuned:     {s['tuned']}"]
        return lines
    lines.append(f"accuracy {m['accuracy']:.4f}   macro-F1 {m['macro_f1']:.4f}   ECE {m['ece']:.4f}")
    width = max(len(n) for n in report["per_class"]) + 2
    lines += ["", f"{'class':{width}} precision  recall     F1  support"]
    for name, c in report["per_class"].items():
        lines.append(f"{name:{width}} {c['precision']:9.3f} {c['recall']:7.3f} {c['f1']:6.3f} {c['support']:8d}")
    return lines


def run_predict(run_dir: str, texts: Sequence[str], as_json: bool, out: TextIO | None = None,
                context: str | None = None) -> int:
    """Classify each text; print label and probabilities (or a JSON list). Returns 0. A question-answering run
    answers each text (a question) from ``context``."""
    out = out or sys.stdout
    from ..core.inference import load_for_inference, predict

    loaded = load_for_inference(Path(run_dir))
    if loaded.task == "question-answering":
        from .task_commands import qa_predict

        return qa_predict(loaded, list(texts), context, as_json, out)
    preds = predict(_checked(loaded, run_dir, "text-classification", "predict"), list(texts))
    if as_json:
        print(json.dumps([p.to_dict() for p in preds], indent=2), file=out)
        return 0
    for p in preds:
        ranked = sorted(p.probabilities.items(), key=lambda kv: -kv[1])
        print(f"{p.label} ({p.confidence:.1%})  {p.text}", file=out)
        print("    " + "  ".join(f"{k} {v:.3f}" for k, v in ranked), file=out)
        if p.note:
            print(f"    note: {p.note}", file=out)
    return 0


class BadSampling(StudioError):
    """A sampling option out of range, or sampling asked of a run that only decodes greedily."""


def sampling_settings(max_new_tokens: int, sample: bool, temperature: float | None, top_p: float | None,
                      seed: int) -> Any:
    """``GenerationSettings`` from the ``generate`` options: greedy unless ``sample``. Raises BadSampling for a
    temperature <= 0, a top-p outside (0, 1], or max-new-tokens < 1; temperature or top-p without ``--sample`` are
    noted on stderr (greedy decoding does not use them)."""
    from ..core.inference import GenerationSettings
    from .cli_parser import DEFAULT_TEMPERATURE, DEFAULT_TOP_P

    if max_new_tokens < 1:
        raise BadSampling(f"--max-new-tokens must be at least 1 (got {max_new_tokens})")
    if temperature is not None and not temperature > 0:
        raise BadSampling(f"--temperature must be greater than 0 (got {temperature})")
    if top_p is not None and not 0 < top_p <= 1:
        raise BadSampling(f"--top-p must be in (0, 1] (got {top_p})")
    if not sample and (temperature is not None or top_p is not None):
        print("note: --temperature and --top-p apply with --sample; decoding greedily", file=sys.stderr)
    return GenerationSettings(max_new_tokens=max_new_tokens, greedy=not sample, seed=seed,
                              temperature=DEFAULT_TEMPERATURE if temperature is None else temperature,
                              top_p=DEFAULT_TOP_P if top_p is None else top_p)


def decoding_dict(settings: Any) -> dict[str, Any]:
    """The decoding settings as ``generate --json`` reports them (sampling ones only when sampling)."""
    if settings.greedy:
        return {"decoding": "greedy", "max_new_tokens": settings.max_new_tokens}
    return {"decoding": "sample", "max_new_tokens": settings.max_new_tokens, "temperature": settings.temperature,
            "top_p": settings.top_p, "seed": settings.seed}


def run_generate(run_dir: str, prompt: str, max_new_tokens: int, base: bool, as_json: bool,
                 out: TextIO | None = None, settings: Any = None) -> int:
    """Generate after ``prompt`` (greedy unless ``settings`` sample), streaming to ``out`` unless ``as_json``.
    Returns 0."""
    out = out or sys.stdout
    from ..core.inference import GenerationSettings, generate, load_for_inference

    settings = settings or GenerationSettings(max_new_tokens=max_new_tokens, greedy=True)
    loaded = load_for_inference(Path(run_dir))
    if loaded.task == "seq2seq" and not base:
        if not settings.greedy:
            raise BadSampling(f"{run_dir} is a seq2seq run, which `generate` decodes greedily; drop --sample")
        from .task_commands import seq2seq_generate

        return seq2seq_generate(loaded, prompt, max_new_tokens, as_json, out)
    loaded = _checked(loaded, run_dir, "causal-lm", "generate")

    def show(piece: str) -> None:
        out.write(piece)
        out.flush()

    result = generate(loaded, prompt, settings, base=base, on_text=None if as_json else show)
    if as_json:
        print(json.dumps({**result.to_dict(), "settings": decoding_dict(settings)}, indent=2), file=out)
    else:
        print(file=out)
        if result.note:
            print(f"note: {result.note}", file=sys.stderr)
        if not settings.greedy:
            print(f"(sampled: temperature {settings.temperature:g}, top-p {settings.top_p:g}, seed {settings.seed})",
                  file=sys.stderr)
    return 0
