"""The dataset doctor for question answering and seq2seq.

Question answering: token lengths of ``question + context`` against ``data.max_length``, how many windows the doc
stride makes of each question, and the questions whose answer fits in no window (training refuses those, naming
the row; the doctor counts them). Seq2seq: source and target lengths against ``data.max_length`` (both are cut
there), empty targets, and evaluation sources that also occur in the training rows.

Both measure a seeded sample of training questions or rows with the same tokenisation as training
(:func:`qa_tokenize.tokenize_qa`, :func:`seq2seq.encode_seq2seq`), so the figures are the run's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..config import RunConfig
from .templates import Segment

if TYPE_CHECKING:  # pragma: no cover
    from .doctor import DoctorReport
    from .squad import QAExample

_BATCH = 256
_LIMITLESS = 100_000
"""A tokenizer's ``model_max_length`` above this is a placeholder, not the model's limit."""


def _cap(suggested: int, tokenizer: Any) -> int:
    """The suggestion, no longer than the model takes (a QA context past it is windowed, not widened)."""
    limit = int(getattr(tokenizer, "model_max_length", 0) or 0)
    return min(suggested, limit) if 0 < limit < _LIMITLESS else suggested


def qa_windows(examples: Sequence[QAExample], tokenizer: Any, max_length: int,
               doc_stride: int) -> tuple[list[int], list[int], list[bool], int]:
    """Per question: its full ``question + context`` length in tokens, its windows, and whether its (first) answer
    lies wholly inside one window; plus the windows that hold no answer (trained to point at the first token).

    A question too long to leave room for the context gets 0 windows and counts as lost. Windows are cut
    exactly as :func:`qa_tokenize.tokenize_qa` cuts them.
    """
    from .qa_tokenize import _token_span

    lengths: list[int] = []
    windows: list[int] = []
    found: list[bool] = []
    empty = 0
    for lo in range(0, len(examples), _BATCH):
        batch = list(examples[lo:lo + _BATCH])
        full = tokenizer([e.question for e in batch], [e.context for e in batch], truncation=False)["input_ids"]
        lengths.extend(len(ids) for ids in full)
        fits = [len(tokenizer(e.question, add_special_tokens=False)["input_ids"]) + 4 < max_length for e in batch]
        kept = [e for e, ok in zip(batch, fits, strict=True) if ok]
        counts, hits = [0] * len(kept), [not e.answer_texts for e in kept]
        if kept:
            enc = tokenizer([e.question for e in kept], [e.context for e in kept], truncation="only_second",
                            max_length=max_length, stride=doc_stride, return_overflowing_tokens=True,
                            return_offsets_mapping=True)
            for i, sample in enumerate(enc["overflow_to_sample_mapping"]):
                ex, span = kept[sample], None
                counts[sample] += 1
                if ex.answer_texts:
                    start = ex.answer_starts[0]
                    span = _token_span(enc["offset_mapping"][i], enc.sequence_ids(i), start,
                                       start + len(ex.answer_texts[0]))
                    hits[sample] = hits[sample] or span is not None
                empty += span is None
        it = iter(zip(counts, hits, strict=True))
        for ok in fits:
            n, hit = next(it) if ok else (0, False)
            windows.append(n)
            found.append(hit)
    return lengths, windows, found, empty


def _qa_preview(example: QAExample, tokenizer: Any, max_length: int, doc_stride: int) -> list[Segment]:
    """The first window holding the answer, decoded, with the answer's tokens marked (the trained span)."""
    from .qa_tokenize import _token_span

    enc = tokenizer(example.question, example.context, truncation="only_second", max_length=max_length,
                    stride=doc_stride, return_overflowing_tokens=True, return_offsets_mapping=True)
    ids = enc["input_ids"]
    for i in range(len(ids)):
        span = None
        if example.answer_texts:
            start = example.answer_starts[0]
            span = _token_span(enc["offset_mapping"][i], enc.sequence_ids(i), start,
                               start + len(example.answer_texts[0]))
        if span is not None or i == len(ids) - 1:
            row = ids[i]
            if span is None:
                return [(tokenizer.decode(row), False)]
            return [(tokenizer.decode(row[:span[0]]) + " ", False),
                    (tokenizer.decode(row[span[0]:span[1] + 1]), True),
                    (" " + tokenizer.decode(row[span[1] + 1:]), False)]
    return []


def qa_doctor(cfg: RunConfig, tokenizer: Any, sample_rows: int) -> DoctorReport:
    """The doctor's report of a question-answering run (questions sampled; see the module docstring)."""
    from .doctor import DoctorReport, _histogram, _sample, suggest_max_length
    from .qa_prepare import split_qa

    train, evaluation, _cols, _fmt = split_qa(cfg)
    d = cfg.data
    sample = [train[i] for i in _sample(len(train), sample_rows, cfg.training.seed)]
    lengths, windows, found, empty = qa_windows(sample, tokenizer, d.max_length, d.doc_stride)
    lost = [ex for ex, ok in zip(sample, found, strict=True) if not ok]
    seen = {(ex.question, ex.context) for ex in train}
    dups = [ex for ex in evaluation if (ex.question, ex.context) in seen]
    n = max(1, len(lengths))
    return DoctorReport(
        task=cfg.task, sample_rows=len(sample), total_rows=len(train), max_length=d.max_length,
        doc_stride=d.doc_stride, bins=_histogram(lengths, d.max_length),
        share_truncated=sum(x > d.max_length for x in lengths) / n,
        share_dropped=len(lost) / n, suggested_max_length=_cap(suggest_max_length(lengths), tokenizer),
        duplicates=len(dups), duplicate_example=dups[0].question if dups else "",
        preview=tuple(_qa_preview(sample[0], tokenizer, d.max_length, d.doc_stride)) if sample else (),
        windows=tuple(sorted(Counter(windows).items())), n_windows=sum(windows), answers_lost=len(lost),
        lost_example=(f"row {lost[0].row} (question {lost[0].id!r}) of {d.train_file}" if lost else ""),
        no_answer_windows=empty,
    )


def seq2seq_doctor(cfg: RunConfig, tokenizer: Any, sample_rows: int) -> DoctorReport:
    """The doctor's report of a seq2seq run. Empty targets are counted (in both files), not refused."""
    from .arrowops import select_rows
    from .columns import summarise_columns
    from .doctor import DoctorReport, _histogram, _sample, count_duplicates, suggest_max_length
    from .load import load_table
    from .prepare import _SAMPLE_ROWS, _blank_rows, _require
    from .seq2seq import resolve_seq2seq_columns, split_seq2seq

    d = cfg.data
    train = load_table(d.train_file, d.format, d.delimiter, d.sheet)
    eval_table = load_table(d.eval_file, d.format, d.delimiter, d.sheet) if d.eval_file else None
    summaries = summarise_columns(train.select(range(min(_SAMPLE_ROWS, len(train)))).to_dict())
    source, target = resolve_seq2seq_columns(cfg, train, summaries)
    empty: list[str] = []
    for table, path in ((train, d.train_file), (eval_table, d.eval_file)):
        if table is not None:
            _require(table, path, [(source, "the training file"), (target, "the training file")])
            empty += [f"{path} row {i + 1}" for i in _blank_rows(table, target)]
    train_part, eval_part = split_seq2seq(cfg, train, eval_table)
    sample = select_rows(train_part, _sample(len(train_part), sample_rows, cfg.training.seed))
    batch = sample.select_columns([source, target])[:]
    texts = {c: ["" if t is None else str(t) for t in batch[c]] for c in (source, target)}
    src = [len(x) for x in tokenizer(texts[source], truncation=False)["input_ids"]]
    tgt = [len(x) for x in tokenizer(text_target=texts[target], truncation=False)["input_ids"]]
    duplicates, example = count_duplicates(train_part, eval_part, [source])
    n, m = max(1, len(src)), d.max_length
    top = max([m, *src, *tgt])  # one set of bins for sources and targets, drawn side by side
    preview: list[Segment] = []
    if len(sample):
        enc = tokenizer(texts[source][:1], text_target=texts[target][:1], truncation=True, max_length=m)
        preview = [(tokenizer.decode(enc["input_ids"][0]) + "  →  ", False), (tokenizer.decode(enc["labels"][0]), True)]
    return DoctorReport(
        task=cfg.task, sample_rows=len(src), total_rows=len(train_part), max_length=m, bins=_histogram(src, top),
        share_truncated=sum(x > m for x in src) / n, share_dropped=0.0,
        suggested_max_length=_cap(suggest_max_length([*src, *tgt]), tokenizer), duplicates=duplicates,
        duplicate_example=example, preview=tuple(preview), target_bins=_histogram(tgt, top),
        target_share_truncated=sum(x > m for x in tgt) / n, empty_targets=len(empty),
        empty_target_example=empty[0] if empty else "",
    )


def task_lines(report: DoctorReport) -> list[str]:
    """The doctor's findings for question answering or seq2seq, one per line (see :meth:`DoctorReport.lines`)."""
    r = report
    spread = ", ".join(f"{lo}-{hi - 1}: {n}" for lo, hi, n in r.bins if n)
    if r.task == "question-answering":
        per = ", ".join(f"{k} window{'s' if k != 1 else ''}: {n}" for k, n in r.windows)
        lost = f"{r.answers_lost} of {r.sample_rows} answers fit in no window"
        lost += f" (training refuses them: first {r.lost_example})" if r.answers_lost else ""
        return [
            f"Doctor:  {r.sample_rows} of {r.total_rows} training questions measured; max_length {r.max_length}, "
            f"doc stride {r.doc_stride}; suggested max_length {r.suggested_max_length} (one window for 95%)",
            f"Lengths: question + context tokens {spread}",
            f"Windows: {r.share_truncated:.1%} of questions are longer than max_length and split; {r.n_windows} "
            f"windows for {r.sample_rows} questions ({per})",
            f"Answers: {lost}; {r.no_answer_windows} windows hold no answer (trained to point at the first token)",
            f"Overlap: {r.duplicates} evaluation questions (same question and context) also occur in the training data"
            + (f", e.g. {r.duplicate_example[:60]!r}" if r.duplicates else ""),
        ]
    tgt = ", ".join(f"{lo}-{hi - 1}: {n}" for lo, hi, n in r.target_bins if n)
    return [
        f"Doctor:  {r.sample_rows} of {r.total_rows} training rows measured; max_length {r.max_length} (sources and "
        f"targets); suggested max_length {r.suggested_max_length}",
        f"Lengths: source {spread}; target {tgt}",
        f"Length:  {r.share_truncated:.1%} of sources and {r.target_share_truncated:.1%} of targets are longer than "
        "max_length and will be cut",
        f"Targets: {r.empty_targets} empty" + (f" (training refuses them: first {r.empty_target_example})"
                                                if r.empty_targets else ""),
        f"Overlap: {r.duplicates} evaluation sources also occur in the training rows"
        + (f", e.g. {r.duplicate_example[:60]!r}" if r.duplicates else ""),
    ]
