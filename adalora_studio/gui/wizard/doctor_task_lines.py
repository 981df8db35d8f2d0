"""The dataset doctor's figures for question answering and seq2seq, as rich-text lines for the dataset page."""

from __future__ import annotations

import html
from typing import Any


def task_figures(report: Any) -> list[str]:
    """Lines of a ``core.data.DoctorReport`` of a question-answering or seq2seq run (HTML)."""
    r = report
    if r.task == "question-answering":
        per = ", ".join(f"{k}: {n:,}" for k, n in r.windows)
        lines = [
            f"<b>{r.share_truncated:.1%}</b> of questions are longer than max_length ({r.max_length}) and are split "
            f"into windows (doc stride {r.doc_stride})",
            f"<b>{r.n_windows:,}</b> windows for {r.sample_rows:,} questions (windows per question: {per}); "
            f"{r.no_answer_windows:,} windows hold no answer",
        ]
        lost = f"<b>{r.answers_lost:,}</b> answers fit in no window"
        if r.answers_lost:
            lost += f" — training refuses them (first: {html.escape(r.lost_example)})"
        lines.append(lost)
        lines.append(f"suggested max_length: <b>{r.suggested_max_length}</b> (one window for 95% of questions)")
        dup = f"<b>{r.duplicates:,}</b> evaluation questions also occur in the training data"
    else:
        lines = [f"<b>{r.share_truncated:.1%}</b> of sources and <b>{r.target_share_truncated:.1%}</b> of targets "
                 f"are longer than max_length ({r.max_length}) and will be cut"]
        empty = f"<b>{r.empty_targets:,}</b> empty targets"
        if r.empty_targets:
            empty += f" — training refuses them (first: {html.escape(r.empty_target_example)})"
        lines.append(empty)
        lines.append(f"suggested max_length: <b>{r.suggested_max_length}</b> (keeps 95% of sources and targets whole)")
        dup = f"<b>{r.duplicates:,}</b> evaluation sources also occur in the training rows"
    if r.duplicates:
        dup += f" (e.g. “{html.escape(r.duplicate_example[:60])}”)"
    return [*lines, dup]
