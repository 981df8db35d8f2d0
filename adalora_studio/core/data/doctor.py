"""The dataset doctor: what ``data.max_length`` does to the data, label balance and train/eval overlap.

Computed on a seeded sample of training rows (:data:`SAMPLE_ROWS`), tokenised exactly as training tokenises them
(the same template and masking), so its cost does not grow with the file. Duplicates between train and eval are
counted over the whole splits, streamed one record batch at a time, so memory does not grow with the file
either. Used by ``adalora-studio validate`` and by the wizard's worker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import paths
from ..config import RunConfig
from .arrowops import (
    SortedCodes,
    base_and_rows,
    chunk_fingerprints,
    chunks,
    is_text,
    row_range,
    select_rows,
    take_rows,
)
from .split_files import Scratch
from .templates import Segment, render_tokens, resolve_template
from .tokenize import IGNORE_INDEX

if TYPE_CHECKING:  # pragma: no cover
    import datasets

SAMPLE_ROWS = 1000
COVER = 0.95
"""The share of sampled rows the suggested ``max_length`` keeps whole."""
_BINS = 12
_UNBOUNDED = 1 << 30


@dataclass(frozen=True)
class DoctorReport:
    """Figures about a dataset against its config; ``lines()`` words them."""

    task: str
    sample_rows: int
    """Training rows measured (a seeded sample)."""
    total_rows: int
    max_length: int
    bins: tuple[tuple[int, int, int], ...]
    """Token-length histogram of the sample: (low, high, count), low inclusive, high exclusive."""
    share_truncated: float
    """Share of sampled rows longer than max_length (cut there)."""
    share_dropped: float
    """Causal LM: share of sampled rows with every assistant turn past max_length (left out)."""
    suggested_max_length: int
    """The smallest multiple of 8 that keeps 95% of sampled rows whole."""
    label_counts: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    """Evaluation rows whose text also occurs in the training rows."""
    duplicate_example: str = ""
    preview: tuple[Segment, ...] = ()
    """The first training example as the model sees it: (text, carries loss) pieces."""
    template: str = ""
    layout: str = ""
    doc_stride: int = 0
    """Question answering: tokens shared by neighbouring windows."""
    windows: tuple[tuple[int, int], ...] = ()
    """Question answering: (windows per question, questions) over the sample."""
    n_windows: int = 0
    """Question answering: windows (training features) the sampled questions give."""
    answers_lost: int = 0
    """Question answering: sampled questions whose answer fits in no window."""
    lost_example: str = ""
    no_answer_windows: int = 0
    """Question answering: windows of the sample that hold no answer."""
    target_bins: tuple[tuple[int, int, int], ...] = ()
    """Seq2seq: token-length histogram of the sampled targets (``bins`` holds the sources)."""
    target_share_truncated: float = 0.0
    empty_targets: int = 0
    """Seq2seq: rows with an empty target, in the training and evaluation files."""
    empty_target_example: str = ""

    def lines(self) -> list[str]:
        """Human-readable findings, one per line."""
        if self.task in ("question-answering", "seq2seq"):
            from .doctor_tasks import task_lines

            return task_lines(self)
        out = [f"Doctor:  {self.sample_rows} of {self.total_rows} training rows measured; max_length "
               f"{self.max_length}; suggested max_length {self.suggested_max_length} (keeps {COVER:.0%} whole)"]
        out.append(f"Lengths: {', '.join(f'{lo}-{hi - 1}: {n}' for lo, hi, n in self.bins if n)}")
        cut = f"{self.share_truncated:.1%} of rows are longer than max_length and will be cut"
        if self.task == "causal-lm":
            cut += f"; {self.share_dropped:.1%} have every assistant turn past it and will be left out"
        out.append(f"Length:  {cut}")
        if self.label_counts:
            total = sum(self.label_counts.values()) or 1
            shares = ", ".join(f"{k} {v / total:.0%}" for k, v in self.label_counts.items())
            ratio = max(self.label_counts.values()) / max(1, min(self.label_counts.values()))
            out.append(f"Balance: {shares} (largest/smallest class {ratio:.1f}x)")
        dup = f"{self.duplicates} evaluation rows also occur in the training rows"
        out.append(f"Overlap: {dup}" + (f", e.g. {self.duplicate_example[:60]!r}" if self.duplicates else ""))
        return out


def _sample(n: int, k: int, seed: int) -> list[int]:
    import numpy as np

    if n <= k:
        return list(range(n))
    return sorted(int(i) for i in np.random.default_rng(seed).choice(n, size=k, replace=False))


def _histogram(lengths: list[int], max_length: int) -> tuple[tuple[int, int, int], ...]:
    import numpy as np

    top = max([max_length, *lengths]) + 1
    width = max(1, -(-top // _BINS))
    counts = np.bincount(np.asarray(lengths, dtype=np.int64) // width, minlength=_BINS)
    return tuple((i * width, (i + 1) * width, int(c)) for i, c in enumerate(counts))


def suggest_max_length(lengths: list[int], cover: float = COVER) -> int:
    """The smallest multiple of 8 (at least 8) at or above the ``cover`` quantile of ``lengths``."""
    import numpy as np

    if not lengths:
        return 8
    q = int(np.quantile(np.asarray(lengths), cover, method="inverted_cdf"))
    return max(8, -(-q // 8) * 8)


def _keys(table: Any, columns: list[str], pool: Any = None) -> Any:
    """One text key per row of the Arrow ``table`` (or record batch)'s ``columns`` (text as is, numbers as
    text, else JSON); ``pool``: the Arrow memory pool of new arrays (None: the default)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = []
    for name in columns:
        col = table.column(name)
        if not is_text(col):
            if pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_boolean(col.type):
                col = pc.cast(col, pa.string(), memory_pool=pool)
            else:
                return pa.array([json.dumps(v, sort_keys=True) for v in col.to_pylist()], pa.string(),
                                memory_pool=pool)
        values.append(pc.coalesce(col, pa.scalar("", col.type), memory_pool=pool) if col.null_count else col)
    return values[0] if len(values) == 1 else pc.binary_join_element_wise(*values, "\x1f", memory_pool=pool)


def _ascending(rows: Any, step: int = 1 << 16) -> bool:
    """True when the numpy array ``rows`` never decreases, checked by chunks (no mask over every row)."""
    import numpy as np

    for start in range(0, len(rows) - 1, step):
        part = rows[start:start + step + 1]
        if not bool(np.all(part[1:] >= part[:-1])):
            return False
    return True


def _sorted_rows(rows: Any) -> tuple[Any, Any]:
    """``rows`` in ascending order and, when they were not, the order that sorts them (else None)."""
    import numpy as np

    if rows is None or _ascending(rows):
        return rows, None
    order = np.argsort(rows, kind="stable")
    return rows[order], order


def _codes(table: Any, columns: list[str], rows: Any, out: Any) -> Any:
    """The fingerprint of the key of each of ``rows`` (sorted; None: every row) of ``table``, written into
    ``out`` (a uint64 array, one item per row) one record batch at a time; returns ``out``."""
    import numpy as np

    written = 0
    start = 0
    for batch in table.select(columns).to_batches():
        end = start + batch.num_rows
        if rows is None:
            local = None
        else:
            lo, hi = row_range(rows, start, end)
            local = rows[lo:hi].astype(np.int64) - start
        if local is None or len(local):
            keys = _keys(batch, columns)
            for at, chunk in chunks(keys):
                part = local if local is None else local[(local >= at) & (local < at + len(chunk))] - at
                codes = chunk_fingerprints(chunk, part)
                out[written:written + len(codes)] = codes
                written += len(codes)
        start = end
    return out


def _matching_codes(table: Any, columns: list[str], rows: Any, wanted: SortedCodes) -> tuple[Any, Any]:
    """Of ``rows`` (sorted; None: all) of ``table``, those whose key fingerprint is in ``wanted``, and
    their fingerprints, one record batch at a time."""
    import numpy as np

    hits, codes = [], []
    start = 0
    for batch in table.select(columns).to_batches():
        end = start + batch.num_rows
        if rows is None:
            local = np.arange(batch.num_rows)
        else:
            lo, hi = row_range(rows, start, end)
            local = rows[lo:hi].astype(np.int64) - start
        if len(local):
            keys = _keys(batch, columns)
            for at, chunk in chunks(keys):
                mine = local[(local >= at) & (local < at + len(chunk))]
                found = chunk_fingerprints(chunk, mine - at)
                hit = wanted.contains(found)
                hits.append(mine[hit] + start)
                codes.append(found[hit])
        start = end
    empty = np.zeros(0, np.int64)
    return (np.concatenate(hits) if hits else empty), (np.concatenate(codes) if codes else empty.astype(np.uint64))


def _candidates(codes: Any, ordered: Any, step: int = 1 << 16) -> Any:
    """Positions in ``codes`` of the fingerprints that are in the sorted ``ordered``, one chunk at a time."""
    import numpy as np

    wanted = SortedCodes(ordered)
    found = [np.flatnonzero(wanted.contains(codes[start:start + step])) + start
             for start in range(0, len(codes), step)]
    return np.concatenate(found) if found else np.zeros(0, np.int64)


def count_duplicates(train: datasets.Dataset, evaluation: datasets.Dataset, columns: list[str]) -> tuple[int, str]:
    """Evaluation rows whose ``columns`` equal a training row's, and one example.

    Rows are first matched by a 64-bit fingerprint of their key (:func:`arrowops.chunk_fingerprints`): the
    evaluation rows' fingerprints are sorted, then the training rows are streamed past them one record batch
    at a time; the few candidates are compared exactly with Arrow. Memory does not grow with the training rows.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not columns or len(evaluation) == 0:
        return 0, ""
    train_table, train_rows = base_and_rows(train)
    eval_table, eval_rows = base_and_rows(evaluation)
    train_rows, _ = _sorted_rows(train_rows)
    eval_sorted, order = _sorted_rows(eval_rows)
    with Scratch(paths.cache_dir() / "scratch") as scratch:  # the evaluation fingerprints, file-backed
        eval_codes = _codes(eval_table, columns, eval_sorted, scratch.array(len(evaluation), np.uint64))
        if order is not None:  # back to evaluation order, so the example is the first duplicate
            eval_codes = eval_codes[np.argsort(order, kind="stable")]
        ordered = scratch.array(len(eval_codes), np.uint64)
        ordered[:] = eval_codes
        ordered.sort()
        partners, partner_codes = _matching_codes(train_table, columns, train_rows, SortedCodes(ordered))
        candidates = _candidates(eval_codes, np.sort(partner_codes))
    if not len(candidates):
        return 0, ""
    eval_at = candidates if eval_rows is None else eval_rows[candidates]
    pool = pa.system_memory_pool()  # the few candidates: the default (mimalloc) pool would back them with new
    # 2 MiB transparent huge pages, several MB of resident memory for a few hundred KB of text
    eval_keys = _keys(take_rows(eval_table.select(columns), eval_at, pool), columns, pool)
    train_keys = _keys(take_rows(train_table.select(columns), partners, pool), columns, pool)
    hit = pc.is_in(eval_keys, value_set=train_keys, memory_pool=pool).to_numpy(zero_copy_only=False)
    n = int(hit.sum())
    example = str(eval_keys[int(hit.argmax())].as_py()).replace("\x1f", " | ") if n else ""
    return n, example


def _classification_lengths(table: datasets.Dataset, tokenizer: Any, columns: tuple[str, ...]) -> list[int]:
    batch = table.select_columns(list(columns))[:]
    pairs = [str(t) for t in batch[columns[1]]] if len(columns) > 1 else None
    encoded = tokenizer([str(t) for t in batch[columns[0]]], pairs, truncation=False)["input_ids"]
    return [len(ids) for ids in encoded]


def _causal_lengths(cfg: RunConfig, table: datasets.Dataset, tokenizer: Any, layout: Any,
                    template: str) -> tuple[list[int], list[int]]:
    """Full lengths and the position of each example's first trained token (-1: none) in the sample."""
    import dataclasses

    from .prepare_causal import tokenize_part

    unbounded = cfg.replace(data=dataclasses.replace(cfg.data, max_length=_UNBOUNDED, text_mode="lines"))
    ds = tokenize_part(unbounded, table, tokenizer, layout, template)
    lengths, firsts = [], []
    for labels in ds["labels"]:
        lengths.append(len(labels))
        firsts.append(next((i for i, x in enumerate(labels) if x != IGNORE_INDEX), -1))
    return lengths, firsts


def _preview(cfg: RunConfig, table: datasets.Dataset, tokenizer: Any, resolved: Any, template: str) -> list[Segment]:
    """The first example exactly as training feeds it (cut at max_length), decoded in trained/untrained runs."""
    if len(table) == 0:
        return []
    first = table.select([0])
    if cfg.task != "causal-lm":
        text = [str(first[c][0]) for c in resolved.summary.text_columns]
        ids = tokenizer(text[0], text[1] if len(text) > 1 else None, truncation=True,
                        max_length=cfg.data.max_length)["input_ids"]
        return [(tokenizer.decode(ids, skip_special_tokens=False), True)]
    from .prepare_causal import tokenize_part

    ds = tokenize_part(cfg, first, tokenizer, resolved.layout, template)
    return render_tokens(ds[0]["input_ids"], ds[0]["labels"], tokenizer)


def run_doctor(cfg: RunConfig, tokenizer: Any, sample_rows: int = SAMPLE_ROWS) -> DoctorReport:
    """Examine the data of ``cfg`` with ``tokenizer``: lengths, truncation, balance, overlap, a rendered example.

    Raises :class:`DataError` as :func:`prepare.inspect_dataset` does, except that question-answering answers
    fitting in no window and empty seq2seq targets are counted in the report rather than refused.
    """
    if cfg.task == "question-answering":
        from .doctor_tasks import qa_doctor

        return qa_doctor(cfg, tokenizer, sample_rows)
    if cfg.task == "seq2seq":
        from .doctor_tasks import seq2seq_doctor

        return seq2seq_doctor(cfg, tokenizer, sample_rows)
    return examine_dataset(cfg, tokenizer, sample_rows)[1]


def examine_dataset(cfg: RunConfig, tokenizer: Any, sample_rows: int = SAMPLE_ROWS) -> tuple[Any, DoctorReport]:
    """:func:`prepare.inspect_dataset`'s summary and the doctor's report, reading and checking the data once."""
    from .prepare import _resolve

    if cfg.task == "question-answering":  # counted in windows, as the engine trains (raises as training would)
        from .qa_prepare import count_qa_windows

        report = run_doctor(cfg, tokenizer, sample_rows)
        return count_qa_windows(cfg, tokenizer), report
    if cfg.task == "seq2seq":
        report = run_doctor(cfg, tokenizer, sample_rows)
        return _resolve(cfg).summary, report  # refuses empty targets as training does, after counting them
    resolved = _resolve(cfg)
    return resolved.summary, _report(cfg, tokenizer, resolved, sample_rows)


def _report(cfg: RunConfig, tokenizer: Any, resolved: Any, sample_rows: int) -> DoctorReport:
    summary, train = resolved.summary, resolved.train_table
    sample = select_rows(train, _sample(len(train), sample_rows, cfg.training.seed))
    max_length = cfg.data.max_length
    template = resolve_template(cfg.data.template, tokenizer) if cfg.task == "causal-lm" else ""
    if cfg.task == "causal-lm":
        lengths, firsts = _causal_lengths(cfg, sample, tokenizer, resolved.layout, template)
        dropped = sum(1 for f in firsts if f < 0 or f >= max_length)
        columns = [c for c in resolved.layout.columns if c]
    else:
        lengths = _classification_lengths(sample, tokenizer, summary.text_columns)
        dropped = 0
        columns = list(summary.text_columns)
    n = max(1, len(lengths))
    duplicates, example = count_duplicates(train, resolved.eval_table, columns)
    return DoctorReport(
        task=cfg.task, sample_rows=len(lengths), total_rows=len(train), max_length=max_length,
        bins=_histogram(lengths, max_length), share_truncated=sum(x > max_length for x in lengths) / n,
        share_dropped=dropped / n, suggested_max_length=suggest_max_length(lengths),
        label_counts=dict(summary.label_counts), duplicates=duplicates, duplicate_example=example,
        preview=tuple(_preview(cfg, train, tokenizer, resolved, template)), template=template,
        layout=summary.chat_format,
    )
