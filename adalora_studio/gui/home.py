"""The home page: what to do first (Try the demo / New fine-tune / Open run) and the recent runs."""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core import paths
from .run_metrics import final_metrics, metrics_text

PATH_ROLE = Qt.ItemDataRole.UserRole
LIVE_REFRESH_S = 2.0
STATUS_MARK = {"finished": "✓", "running": "▶", "stopped": "■", "failed": "✗", "interrupted": "!", "new": "·",
               "unreadable": "?"}

INTRO = (
    "Fine-tune a language model with <b>AdaLoRA</b>: you give it a budget of adapter parameters, and during "
    "training it moves that budget to the weight matrices that matter most. Everything runs on this computer."
)
DEMO_TEXT = (
    "Fine-tunes the bundled all-MiniLM-L6-v2 on 1,200 bundled support tickets (5 topics) with the "
    "“Quick demo” budget. A few minutes on a laptop CPU; watch the ranks move while the loss falls."
)


def _ago(when: float) -> str:
    seconds = max(0, time.time() - when)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


class HomePage(QWidget):
    """The first page: big actions first, recent runs below (or what to do when there are none)."""

    demo_requested = Signal()
    new_requested = Signal()
    open_requested = Signal()
    run_chosen = Signal(str)
    """A recent run was activated (its folder)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("home")
        title = QLabel("AdaLoRA Studio", self)
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 2.0)
        font.setBold(True)
        title.setFont(font)
        intro = QLabel(INTRO, self)
        intro.setWordWrap(True)

        self.demo_button = QPushButton("Try the demo", self)
        self.demo_button.setObjectName("tryDemo")
        self.new_button = QPushButton("New fine-tune…", self)
        self.open_button = QPushButton("Open run…", self)
        for b in (self.demo_button, self.new_button, self.open_button):
            b.setMinimumHeight(40)
            b.setMinimumWidth(160)
        self.demo_button.setDefault(True)
        actions = QHBoxLayout()
        actions.addWidget(self.demo_button)
        actions.addWidget(self.new_button)
        actions.addWidget(self.open_button)
        actions.addStretch(1)
        self.demo_note = QLabel(DEMO_TEXT, self)
        self.demo_note.setWordWrap(True)
        self.live_button = QPushButton(self)
        self.live_button.setObjectName("homeRunning")
        self.live_button.setToolTip("Show the dashboard of the run in progress")
        self.live_button.hide()
        self._indicator: Any = None
        self._live_refreshed = 0.0

        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        recent_title = QLabel("<b>Recent runs</b>", self)
        self.empty_label = QLabel(self)
        self.empty_label.setWordWrap(True)
        self.runs_list = QListWidget(self)
        self.runs_list.setObjectName("recentRuns")
        self.runs_list.setAlternatingRowColors(True)

        column = QVBoxLayout()
        self._column = column
        column.addSpacing(24)
        column.addWidget(title)
        column.addWidget(intro)
        column.addSpacing(12)
        column.addLayout(actions)
        column.addWidget(self.live_button)
        column.addWidget(self.demo_note)
        column.addSpacing(12)
        column.addWidget(line)
        column.addWidget(recent_title)
        column.addWidget(self.empty_label)
        column.addWidget(self.runs_list, 1)
        column.addStretch(1)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column, 8)
        outer.addStretch(1)

        self.demo_button.clicked.connect(self.demo_requested)
        self.new_button.clicked.connect(self.new_requested)
        self.open_button.clicked.connect(self.open_requested)
        self.runs_list.itemActivated.connect(lambda item: self.run_chosen.emit(item.data(PATH_ROLE)))
        self.refresh()

    def refresh(self) -> None:
        """Re-read the runs folder (cheap: reads each run's run.json and status.json only)."""
        from ..core.runs import list_runs

        runs: list[Any] = list_runs()
        self.runs_list.clear()
        for run in runs[:50]:
            mark = STATUS_MARK.get(run.status, "·")
            detail = f"{run.status}, step {run.step}" if run.step else run.status
            if self._is_live(run.path):
                detail = f"running now, {self._indicator.progress_text}"
            elif run.status == "finished" and (metrics := final_metrics(run.path)):
                detail = f"finished, {metrics_text(metrics)}"
            model = "bundled MiniLM" if run.model == "bundled" else Path(run.model).name or run.model
            item = QListWidgetItem(f"{mark}  {run.name} — {run.task or '?'}, {model} — {detail} — {_ago(run.created)}")
            item.setData(PATH_ROLE, str(run.path))
            item.setToolTip(html.escape(f"{run.path}\n{run.message}".strip()))
            self.runs_list.addItem(item)
        has_runs = bool(runs)
        self.runs_list.setVisible(has_runs)
        self._column.setStretch(self._column.count() - 1, 0 if has_runs else 1)
        self.empty_label.setText(
            f"Double-click a run to open it. Runs live in {paths.runs_dir()}." if has_runs else
            f"No runs yet. Press <b>Try the demo</b> to see AdaLoRA at work in a few minutes, or "
            f"<b>New fine-tune…</b> to choose your own model and data. Runs will be kept in {paths.runs_dir()}.")
        live = self._indicator is not None and self._indicator.isVisibleTo(self._indicator.parentWidget())
        self.demo_button.setText("Queue the demo" if live else "Try the demo" if not has_runs
                                 else "Run the demo again")
        self.live_button.setVisible(live)
        if live:
            self.live_button.setText(f"▶ {self._indicator.name} is training — {self._indicator.progress_text}. "
                                     "Show its dashboard")

    def follow(self, indicator: Any) -> None:
        """Show the run in progress that ``indicator`` (a RunningIndicator) follows, and open it on click."""
        self._indicator = indicator
        indicator.changed.connect(self._on_live_changed)
        self.live_button.clicked.connect(indicator.show_requested)

    def _is_live(self, path: Any) -> bool:
        ind = self._indicator
        return ind is not None and ind.isVisibleTo(ind.parentWidget()) and bool(ind.run_dir) and \
            Path(ind.run_dir) == Path(path)

    def _on_live_changed(self) -> None:
        # Each step updates the indicator; re-read the runs folder at most every LIVE_REFRESH_S while shown.
        now = time.monotonic()
        if self.isVisible() and (now - self._live_refreshed >= LIVE_REFRESH_S or not self._indicator.isVisible()):
            self._live_refreshed = now
            self.refresh()
