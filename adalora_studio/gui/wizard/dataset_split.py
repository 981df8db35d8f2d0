"""The dataset page's "Labels and split" box: row counts of the split, the label distribution and data warnings."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QLabel, QVBoxLayout, QWidget

from .page import InlineMessage

MAX_LABELS_SHOWN = 20


def distribution_html(counts: dict[str, int] | None) -> str:
    """A small bar table of label counts (the 20 most frequent), or '' when there are none."""
    if not counts:
        return ""
    top = max(counts.values())
    total = sum(counts.values())
    rows = "".join(
        f"<tr><td>{html.escape(str(name))}</td><td align='right'>&nbsp;{n:,}&nbsp;</td>"
        f"<td><span style='color:#268bd2'>{'█' * max(1, round(20 * n / top))}</span>"
        f" {100 * n / total:.0f}%</td></tr>"
        for name, n in sorted(counts.items(), key=lambda kv: -kv[1])[:MAX_LABELS_SHOWN])
    extra = len(counts) - MAX_LABELS_SHOWN
    more = f"<br>… and {extra} more label{'' if extra == 1 else 's'}" if extra > 0 else ""
    return f"<table>{rows}</table>{more}"


class LabelsSplitBox(QGroupBox):
    """Shows a ``core.data.DataSummary``; :meth:`clear` whenever the data it describes is gone or changing."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Labels and split", parent)
        lay = QVBoxLayout(self)
        self.split_label = QLabel("—", self)
        self.split_label.setWordWrap(True)
        self.dist_label = QLabel("", self)
        self.dist_label.setTextFormat(Qt.TextFormat.RichText)
        self.dist_label.setWordWrap(True)
        self.warnings = InlineMessage(self)
        lay.addWidget(self.split_label)
        lay.addWidget(self.dist_label)
        lay.addWidget(self.warnings)
        lay.addStretch(1)

    def clear(self, text: str = "—") -> None:
        """Forget the last summary (another file, a failed read, a new mapping being checked)."""
        self.split_label.setText(text)
        self.dist_label.setText("")
        self.warnings.show_message(None)

    def show_summary(self, summary: Any, classification: bool) -> None:
        """Row counts, label distribution (classification) and the core's warnings."""
        self.split_label.setText(f"{summary.n_train:,} training row{'' if summary.n_train == 1 else 's'}, "
                                 f"{summary.n_eval:,} evaluation row{'' if summary.n_eval == 1 else 's'}.")
        self.dist_label.setText(distribution_html(summary.label_counts) if classification else "")
        warnings = list(summary.warnings)
        self.warnings.show_message("<br>".join(html.escape(w) for w in warnings) if warnings else None, "warning")
