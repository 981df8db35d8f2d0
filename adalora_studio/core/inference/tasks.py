"""Single predictions and evaluation reports for the question-answering and generation tasks.

Core functions for a playground and for ``predict``/``generate``/``evaluate`` commands: a context and a question
give the answer span (characters in the context, with its score); a source gives the generated target. The
report helpers score a set of predictions (EM/F1, or ROUGE/BLEU/chrF/exact match) and list the worst examples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..metrics import SpanPrediction, best_span, f1_score, generation_scores, per_example_score, squad_scores
from .generation_eval import GenerationSample, generate_ids


def answer_question(model: Any, tokenizer: Any, question: str, context: str, *, max_length: int = 384,
                    doc_stride: int = 128, max_answer_length: int = 30, allow_null: bool = False) -> SpanPrediction:
    """The best answer span of ``question`` in ``context`` (a QA model, peft-wrapped or not), greedy and exact:
    ``context[p.start_char:p.end_char] == p.text``."""
    import torch

    from ..data.qa_tokenize import tokenize_qa
    from ..data.squad import QAExample

    example = QAExample("q", context, question, (), (), 1)
    cols = tokenize_qa([example], tokenizer, max_length, doc_stride, "<input>", "answers", keep_offsets=True)
    device = next(model.parameters()).device
    windows = []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for i in range(len(cols["input_ids"])):
                inputs = {k: torch.tensor([cols[k][i]], device=device) for k in ("input_ids", "attention_mask",
                                                                                  "token_type_ids") if k in cols}
                out = model(**inputs)
                windows.append((out.start_logits[0].float().tolist(), out.end_logits[0].float().tolist(),
                                cols["offset_mapping"][i]))
    finally:
        if was_training:
            model.train()
    return best_span(context, windows, max_answer_length=max_answer_length, allow_null=allow_null)


def generate_text(model: Any, tokenizer: Any, text: str, task: str, *, max_length: int = 512,
                  max_new_tokens: int = 64) -> str:
    """Greedy generation for one input: the seq2seq target of a source, or a causal LM's response to a prompt
    (formatted as in training: ``prompt + "\\n"``)."""
    if task == "seq2seq":
        ids = tokenizer(text, truncation=True, max_length=max_length)["input_ids"]
    else:
        ids = tokenizer(f"{text}\n", add_special_tokens=True)["input_ids"][-max_length:]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (tokenizer.eos_token_id or 0)
    was_training = model.training
    model.eval()
    try:
        out = generate_ids(model, [ids], task, int(pad), max_new_tokens, 1)[0]
    finally:
        if was_training:
            model.train()
    return str(tokenizer.decode(out, skip_special_tokens=True)).strip()


def answer_loaded(loaded: Any, question: str, context: str, base: bool = False) -> SpanPrediction:
    """:func:`answer_question` with a loaded run's window settings; ``base`` switches the adapter off (the base
    model's answer, for base-vs-tuned comparisons)."""
    import contextlib

    from ..adalora import adapter_disabled

    d = loaded.config.data if loaded.config is not None else None
    kwargs = {"max_length": d.max_length, "doc_stride": d.doc_stride, "max_answer_length": d.max_answer_length,
              "allow_null": d.eval_metric == "squad_v2"} if d is not None else {}
    with adapter_disabled(loaded.model) if base else contextlib.nullcontext():
        return answer_question(loaded.model, loaded.tokenizer, question, context, **kwargs)


def target_loaded(loaded: Any, source: str, max_new_tokens: int, base: bool = False) -> str:
    """The greedy seq2seq target of ``source`` from a loaded run (cut at its max_length); ``base`` switches the
    adapter off."""
    import contextlib

    from ..adalora import adapter_disabled

    max_length = loaded.config.data.max_length if loaded.config is not None else 512
    with adapter_disabled(loaded.model) if base else contextlib.nullcontext():
        return generate_text(loaded.model, loaded.tokenizer, source, "seq2seq", max_length=max_length,
                             max_new_tokens=max_new_tokens)


def qa_report(examples: Sequence[Any], predictions: Sequence[SpanPrediction], n_worst: int = 10,
              version_2: bool = False) -> dict[str, Any]:
    """EM/F1 of ``predictions`` (one per ``QAExample``) and the ``n_worst`` questions by F1 (then by score)."""
    gold = {ex.id: list(ex.answer_texts) for ex in examples}
    scores = squad_scores({ex.id: p.text for ex, p in zip(examples, predictions, strict=True)}, gold, version_2)
    rows: list[dict[str, Any]] = []
    for ex, p in zip(examples, predictions, strict=True):
        f1 = max((f1_score(p.text, g, version_2) for g in (list(ex.answer_texts) or [""])), default=0.0)
        rows.append({"id": ex.id, "row": ex.row, "question": ex.question, "answers": list(ex.answer_texts),
                     "prediction": p.text, "f1": 100.0 * f1, "score": p.score})
    rows.sort(key=lambda r: (float(r["f1"]), -float(r["score"]) if r["score"] == r["score"] else 0.0))
    return {"metrics": scores, "worst": rows[:n_worst], "n": len(rows)}


def generation_report(samples: Sequence[GenerationSample], metric: str, n_worst: int = 10,
                      rows: Sequence[int] | None = None) -> dict[str, Any]:
    """Corpus scores of generated ``samples`` and the ``n_worst`` of them by the metric's per-example score
    (each with its file ``row`` when ``rows`` gives them)."""
    scores = generation_scores(metric, [s.prediction for s in samples], [s.reference for s in samples])
    numbers = list(rows) if rows is not None else [None] * len(samples)
    rows_out: list[dict[str, Any]] = [
        {**({"row": r} if r is not None else {}), "prompt": s.prompt, "reference": s.reference,
         "prediction": s.prediction, "score": per_example_score(metric, s.prediction, s.reference)}
        for s, r in zip(samples, numbers, strict=True)]
    rows_out.sort(key=lambda r: float(r["score"]))
    return {"metrics": scores, "worst": rows_out[:n_worst], "n": len(rows_out)}


def task_report_sections(loaded: Any, rows: Any = None, n_worst: int = 10) -> dict[str, Any]:
    """Report sections of a question-answering or seq2seq run: ``metrics`` (EM/F1, or the generation metric; eval
    loss too for seq2seq), ``worst`` examples and ``n_rows``, on ``rows`` of another file (:class:`EvalRows`) or,
    when they hold nothing, on the run's own evaluation split. Generation is greedy and capped at
    ``data.generation_eval_rows``, as during training."""
    from ..metrics import metric_package_missing, resolve_metric

    cfg = loaded.config
    metric = resolve_metric(cfg.task, cfg.data.eval_metric)
    if cfg.task == "question-answering":
        examples = list(rows.examples) if rows is not None and rows.examples else _own(cfg, loaded).eval_examples
        d = cfg.data
        preds = [answer_question(loaded.model, loaded.tokenizer, ex.question, ex.context, max_length=d.max_length,
                                 doc_stride=d.doc_stride, max_answer_length=d.max_answer_length,
                                 allow_null=metric == "squad_v2") for ex in examples]
        report = qa_report(examples, preds, n_worst, version_2=metric == "squad_v2")
        return {"metrics": report["metrics"], "worst_examples": report["worst"], "n_rows": report["n"],
                "metric": metric}
    if metric in ("loss", "auto") or metric_package_missing(metric):
        metric = "exact_match"
    dataset = _seq2seq_rows(cfg, loaded, rows) if rows is not None and rows.texts else _own(cfg, loaded).eval
    return _generation_sections(loaded, dataset, metric, n_worst, from_file=rows is not None and bool(rows.texts))


def _own(cfg: Any, loaded: Any) -> Any:
    from ..data import prepare_data

    return prepare_data(cfg, loaded.tokenizer)


def _seq2seq_rows(cfg: Any, loaded: Any, rows: Any) -> Any:
    """Another file's (source, target) rows tokenised as training tokenises them."""
    import datasets

    from ..data.seq2seq import encode_seq2seq

    return datasets.Dataset.from_dict(encode_seq2seq(loaded.tokenizer, rows.texts, rows.responses,
                                                     cfg.data.max_length))


def _generation_sections(loaded: Any, dataset: Any, metric: str, n_worst: int, from_file: bool) -> dict[str, Any]:
    from .generation_eval import evaluate_generation
    from .task_rows import seq2seq_eval_loss

    cfg = loaded.config
    _, samples = evaluate_generation(loaded.model, loaded.tokenizer, dataset, cfg.task, metric,
                                     cfg.data.generation_eval_rows, cfg.data.max_new_tokens, cfg.training.batch_size)
    report = generation_report(samples, metric, n_worst, rows=range(1, len(samples) + 1) if from_file else None)
    metrics = dict(report["metrics"])
    if cfg.task == "seq2seq":
        metrics["eval_loss"] = seq2seq_eval_loss(loaded, dataset, cfg.training.batch_size)
    return {"metrics": metrics, "worst_examples": report["worst"], "n_rows": report["n"], "metric": metric,
            "rows_scored_by_loss": len(dataset)}
