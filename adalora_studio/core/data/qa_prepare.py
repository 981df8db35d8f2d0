"""Question-answering data of a run: read train (and eval) files, split by context, tokenise with doc stride.

The hold-out split groups questions by context, so a passage is never both trained on and evaluated.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..config import RunConfig
from ..errors import DataError
from .columns import split_indices
from .prepare import DataSummary, PreparedData
from .qa_tokenize import tokenize_qa
from .squad import QAColumns, QAExample, read_qa_file


def split_qa(cfg: RunConfig) -> tuple[list[QAExample], list[QAExample], QAColumns, str]:
    """The training and evaluation questions (held out by context), the columns read and the file format."""
    d = cfg.data
    if not d.train_file.strip():
        raise DataError("no training data chosen; set data.train_file to a data file")
    given = QAColumns(d.question_column, d.context_column, d.answers_column)
    allow_null = d.eval_metric == "squad_v2"
    train, cols, fmt = read_qa_file(d.train_file, d.format, given, allow_null)
    if d.eval_file:
        evaluation, _, _ = read_qa_file(d.eval_file, d.format, cols if fmt != "squad-json" else given, allow_null)
        return train, evaluation, cols, fmt
    contexts = list(dict.fromkeys(ex.context for ex in train))
    if len(contexts) < 2:
        raise DataError("holds a single context; hold-out evaluation needs at least two, or set data.eval_file",
                        file=d.train_file)
    _, eval_idx = split_indices(len(contexts), d.eval_fraction, cfg.training.seed)
    held = {contexts[i] for i in eval_idx}
    return ([ex for ex in train if ex.context not in held], [ex for ex in train if ex.context in held], cols, fmt)


def _summary(cfg: RunConfig, train: list[QAExample], evaluation: list[QAExample], cols: QAColumns,
             fmt: str, n_train: int | None = None, n_eval: int | None = None) -> DataSummary:
    warnings = []
    if n_train is not None and n_train > len(train):
        warnings.append(f"contexts longer than data.max_length ({cfg.data.max_length} tokens) were split into "
                        f"overlapping windows (doc stride {cfg.data.doc_stride}): {len(train)} training questions "
                        f"give {n_train} windows")
    return DataSummary(n_train=len(train) if n_train is None else n_train,
                       n_eval=len(evaluation) if n_eval is None else n_eval, task=cfg.task, format=fmt,
                       question_column=cols.question, context_column=cols.context, answers_column=cols.answers,
                       warnings=tuple(warnings))


def inspect_qa(cfg: RunConfig) -> DataSummary:
    """Read and check the questions, without a tokenizer (counts are questions, not windows)."""
    train, evaluation, cols, fmt = split_qa(cfg)
    summary = _summary(cfg, train, evaluation, cols, fmt)
    long = sum(1 for ex in train if len(ex.context) // 4 > cfg.data.max_length)  # ~4 characters per token
    if long:
        note = (f"about {long} of {len(train)} training questions have a context longer than data.max_length "
                f"({cfg.data.max_length} tokens); each becomes several windows once tokenised, so the run will "
                "take more steps per epoch than counted here")
        summary = dataclasses.replace(summary, warnings=(*summary.warnings, note))
    return summary


def count_qa_windows(cfg: RunConfig, tokenizer: Any) -> DataSummary:
    """The data summary a run will train on, counted in windows (features after doc-stride splitting), exactly as
    :func:`prepare_qa` tokenises them, so a plan made from it has the engine's step count. Raises
    :class:`DataError` as training would (an answer that fits in no window names its row)."""
    train, evaluation, cols, fmt = split_qa(cfg)
    d = cfg.data
    train_cols = tokenize_qa(train, tokenizer, d.max_length, d.doc_stride, d.train_file, cols.answers, False)
    eval_cols = tokenize_qa(evaluation, tokenizer, d.max_length, d.doc_stride, d.eval_file or d.train_file,
                            cols.answers, False)
    return _summary(cfg, train, evaluation, cols, fmt, len(train_cols["start_positions"]),
                    len(eval_cols["start_positions"]))


def count_train_windows(cfg: RunConfig, tokenizer: Any) -> tuple[int, int]:
    """(training windows, training questions): the ``n_train`` of :func:`count_qa_windows`, cut the same way but
    counted without keeping the features, so it is light enough to run for a plan on a large file. Raises
    :class:`DataError` naming the row where training would refuse (an answer in no window, a question too long)."""
    from .doctor_tasks import qa_windows

    train, _evaluation, cols, _fmt = split_qa(cfg)
    d = cfg.data
    _lengths, windows, found, _empty = qa_windows(train, tokenizer, d.max_length, d.doc_stride)
    lost = [ex for ex, ok in zip(train, found, strict=True) if not ok]
    if lost:  # training's own message for the first refused question
        tokenize_qa(lost[:1], tokenizer, d.max_length, d.doc_stride, d.train_file, cols.answers, False)
    return sum(windows), len(train)


def prepare_qa(cfg: RunConfig, tokenizer: Any) -> PreparedData:
    """Training and evaluation features (windows); ``eval_examples`` holds the eval questions."""
    import datasets

    train, evaluation, cols, fmt = split_qa(cfg)
    d = cfg.data
    train_cols = tokenize_qa(train, tokenizer, d.max_length, d.doc_stride, d.train_file, cols.answers, False)
    eval_cols = tokenize_qa(evaluation, tokenizer, d.max_length, d.doc_stride, d.eval_file or d.train_file,
                            cols.answers, True)
    train_ds, eval_ds = datasets.Dataset.from_dict(train_cols), datasets.Dataset.from_dict(eval_cols)
    summary = _summary(cfg, train, evaluation, cols, fmt, len(train_ds), len(eval_ds))
    return PreparedData(train=train_ds, eval=eval_ds, summary=summary, eval_examples=tuple(evaluation))
