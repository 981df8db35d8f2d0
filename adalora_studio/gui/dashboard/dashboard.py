"""The dashboard widget: composes the views over one :class:`DashboardState` and redraws at most ~10 times/s.

Live: connect ``TorchWorker.event`` to :meth:`Dashboard.apply_event`. Replay: :meth:`Dashboard.load_run` reads a
run folder's ``events.jsonl`` (and keeps following it while another process is still writing it).
"""

from __future__ import annotations

import html
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QLabel, QSplitter, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from ...core.events import TERMINAL_EVENTS, Event, RunStarted
from .curves import CurvesView
from .finish_panel import FinishPanel
from .insights import InsightsPanel
from .log_pane import LogPane
from .memory_plot import MemoryPlot
from .plot_export import save_plots
from .progress import ProgressView
from .rank_bars import RankBarsView
from .rank_heatmap import RankHeatmapView
from .report_tab import ReportTab
from .run_follower import RunFollower
from .snapshot_slider import SnapshotSlider
from .state import (
    PART_CURVES,
    PART_FINISH,
    PART_LOG,
    PART_PROGRESS,
    PART_RANKS,
    STATUS_EMPTY,
    STATUS_RUNNING,
    DashboardState,
    LogLine,
)

REDRAW_INTERVAL_MS = 100
"""Redraws are coalesced: at most one per interval (10 Hz), however fast events arrive."""
MAX_REDRAW_INTERVAL_MS = 1000
GUI_CPU_TARGET = 0.03
"""Share of one core the GUI thread may use while a run streams events. Every GUI-thread CPU second is one the
worker's Python waits for the GIL (measured: 4.5% of a core at one redraw per step cost ~5% of MiniLM steps/s on
2 cores), so when drawing gets costly the interval grows (up to 1 s) until the GUI stays near this share."""
MEMORY_INTERVAL_MS = 1000
STARTING_TEXT = ("<h3>Starting {name}…</h3><p>Loading the model and the data; the plots appear with the first "
                 "training step.</p>")
EMPTY_TEXT = ("<h3>No run to show</h3><p>Start a run from <b>New fine-tune…</b> or open a run folder "
              "(<b>File ▸ Open run…</b>) to replay it.</p>")


FIRST_DRAW_GAP_MS = 25
"""Pause between the turns of a run's first appearance on the dashboard (see ``Dashboard._timed_redraw``)."""


class Dashboard(QWidget):
    """Live and replayed view of one run."""

    stop_requested = Signal()
    resume_requested = Signal(str)
    """The run folder to resume (pass it to ``TorchWorker.start_run(config, resume_from=...)``)."""
    export_lora = Signal(str)
    export_merged = Signal(str)
    export_csv = Signal(str)
    export_rank_config = Signal(str)
    export_gguf = Signal(str)
    plots_exported = Signal(object)
    """The list of files :meth:`export_plots` wrote."""
    report_shown = Signal(str)
    """A report file, when the run's evaluation report appears in the Report tab (after Finished, or on opening)."""
    redraw_interval_ms = REDRAW_INTERVAL_MS

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = DashboardState()
        self.live = False
        """True while this app's worker drives the run (Stop is offered)."""
        self.replaying = False
        """True while a run folder opened with :meth:`load_run` is shown (live events are ignored)."""
        self._build()
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(self.redraw_interval_ms)
        self._redraw_timer.timeout.connect(self._timed_redraw)
        self._cpu_mark = (time.thread_time(), time.monotonic())
        self._memory_timer = QTimer(self)
        self._memory_timer.setInterval(MEMORY_INTERVAL_MS)
        self._memory_timer.timeout.connect(lambda: self.progress.refresh_memory(self.state))
        self.follower = RunFollower(self)
        self.follower.events.connect(self.apply_events)
        self.follower.ended.connect(self._on_follow_ended)
        self._shown_snapshot: object = None
        self.redraw_count = 0
        self.redraw()

    def _build(self) -> None:
        self.progress = ProgressView()
        self.curves = CurvesView()
        self.memory_plot = MemoryPlot()  # CUDA runs only
        self.rank_bars = RankBarsView()
        self.heatmap = RankHeatmapView()
        self.slider = SnapshotSlider()
        self.log_pane = LogPane()
        self.finish_panel = FinishPanel()
        self.finish_panel.hide()

        ranks = QSplitter(Qt.Orientation.Vertical)
        ranks.addWidget(self.rank_bars)
        ranks.addWidget(self.heatmap)
        ranks_box = QWidget()
        ranks_layout = QVBoxLayout(ranks_box)
        ranks_layout.setContentsMargins(0, 0, 0, 0)
        ranks_layout.addWidget(ranks, 1)
        ranks_layout.addWidget(self.slider)
        curves_box = QWidget()
        curves_layout = QVBoxLayout(curves_box)
        curves_layout.setContentsMargins(0, 0, 0, 0)
        curves_layout.addWidget(self.curves, 1)
        curves_layout.addWidget(self.memory_plot)
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(curves_box)
        plots.addWidget(ranks_box)
        plots.setStretchFactor(0, 5)
        plots.setStretchFactor(1, 4)
        self.insights = InsightsPanel()  # "Inside AdaLoRA": explorer, pruning timeline, budget, spectra
        self.insights.attach_pickers(self.rank_bars, self.heatmap)
        self.tabs = QTabWidget()
        self.tabs.addTab(plots, "Training")
        self.tabs.addTab(self.insights, "Inside AdaLoRA")
        self.insights.pick_requested.connect(lambda: self.tabs.setCurrentWidget(self.insights))
        self.report_tab = ReportTab(self.tabs)  # "Report": added once the run's report.json exists
        self.report_view = self.report_tab.view
        self.report_tab.shown.connect(self.report_shown)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(self.tabs)
        body.addWidget(self.log_pane)
        body.setStretchFactor(0, 6)
        body.setStretchFactor(1, 1)
        body.setSizes([760, 90])

        run_page = QWidget()
        run_layout = QVBoxLayout(run_page)
        run_layout.setContentsMargins(4, 4, 4, 4)
        run_layout.addWidget(self.progress)
        run_layout.addWidget(body, 1)
        run_layout.addWidget(self.finish_panel)

        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty_label)
        self.pages.addWidget(run_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

        self.progress.stop_clicked.connect(self._on_stop)
        self.progress.resume_clicked.connect(lambda: self.resume_requested.emit(self.state.run_dir))
        self.slider.index_changed.connect(lambda _i: self._show_snapshot())
        self.finish_panel.export_lora.connect(self.export_lora)
        self.finish_panel.export_merged.connect(self.export_merged)
        self.finish_panel.export_csv.connect(self.export_csv)
        self.finish_panel.export_rank_config.connect(self.export_rank_config)
        self.finish_panel.export_gguf.connect(self.export_gguf)
        self.finish_panel.export_plots.connect(self.export_plots_dialog)
        self.finish_panel.report_requested.connect(lambda _run_dir: self.show_report_tab())

    # ------------------------------------------------------------------ feeding

    def apply_event(self, event: Event) -> None:
        """Fold a live event into the state; the redraw follows within ~100 ms (cheap: no drawing here).

        Ignored while a run folder opened with :meth:`load_run` is shown (until :meth:`reset`), so a run going on
        in the worker never mixes into a replay; its events still reach its own ``events.jsonl``.
        """
        if self.replaying:
            return
        if isinstance(event, RunStarted):
            self.live = True
            if event.resumed_from_step is not None and self.state.started is None:
                self._load_history(event)
        self.state.apply(event)
        if isinstance(event, TERMINAL_EVENTS):
            self.redraw()  # once per run: show Finished/Stopped/Failed and the finish panel at once
        else:
            self._schedule()

    def _load_history(self, resumed: RunStarted) -> None:
        """A resumed run arrives on an empty dashboard: first replay what its folder logged before the resume."""
        from ...core.errors import StudioError
        from ...core.runs import read_run_events

        try:
            history = read_run_events(resumed.run_dir)
        except (StudioError, OSError) as exc:
            self.state.logs.append(LogLine(time.time(), "warning", f"Could not read the run's earlier events: {exc}"))
            return
        starts = [i for i, e in enumerate(history) if isinstance(e, RunStarted) and e.time == resumed.time]
        self.state.apply_all(history[: starts[-1]] if starts else history)

    def apply_events(self, events: list[Event]) -> None:
        """Fold many events (one redraw for all)."""
        for event in events:
            self.state.apply(event)
        self._schedule()

    def load_run(self, run_dir: str | Path) -> None:
        """Replay a run folder's ``events.jsonl``; keep following it while another process (or this app's
        worker) writes it. Raises RunError when the folder has no event log."""
        self.reset()
        self.replaying = True
        try:
            self.follower.start(Path(run_dir), self.state)
        except Exception:
            self.reset()
            raise
        self.redraw()

    def reset(self) -> None:
        """Back to the empty state (stops following a run folder)."""
        self.follower.stop()
        self.live = False
        self.replaying = False
        self.state.reset()
        self.curves.clear()
        self.memory_plot.clear()
        self.rank_bars.clear()
        self.heatmap.clear()
        self.insights.clear()
        self.report_tab.clear()
        self.log_pane.clear_lines()
        self.slider.live_box.setChecked(True)
        self.slider.set_count(0)
        self._shown_snapshot = None
        self.empty_label.setText(EMPTY_TEXT)
        self.redraw()

    def show_starting(self, name: str) -> None:
        """While a new run loads its model (seconds), say so instead of "No run to show"."""
        self.empty_label.setText(STARTING_TEXT.format(name=html.escape(name)))

    def _schedule(self) -> None:
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _on_follow_ended(self, interrupted: bool) -> None:
        if interrupted:
            self.state.mark_interrupted()
        self._schedule()

    def _on_stop(self) -> None:
        self.progress.set_stopping()
        self.stop_requested.emit()

    # ------------------------------------------------------------------ drawing

    def _timed_redraw(self) -> None:
        """The redraw timer's slot: :meth:`redraw`, with a run's first appearance spread over three event-loop
        turns: the run's page is shown (its first layout and paint), then the curves, progress and log are drawn,
        then the first rank snapshot (the bars and heatmap of every matrix, with their axes). In one turn they held
        the GUI thread 80-170 ms on a 2-core machine. ``FIRST_DRAW_GAP_MS`` apart, so each turn's painting is done
        before the next starts."""
        if self.pages.currentIndex() == 0 and self.state.status != STATUS_EMPTY:
            self.pages.setCurrentIndex(1)
            QTimer.singleShot(FIRST_DRAW_GAP_MS, self._timed_redraw)
            return
        if self._shown_snapshot is None and PART_RANKS in self.state.dirty and len(self.state.dirty) > 1:
            self.state.dirty.discard(PART_RANKS)
            self.redraw()
            self.state.dirty.add(PART_RANKS)
            QTimer.singleShot(FIRST_DRAW_GAP_MS, self._timed_redraw)
            return
        self.redraw()

    def redraw(self) -> None:
        """Draw what changed since the last redraw (the timer calls this; tests may call it directly)."""
        self._redraw_timer.stop()
        self._adapt_interval()
        parts = self.state.take_dirty()
        self.redraw_count += 1
        empty = self.state.status == STATUS_EMPTY
        self.pages.setCurrentIndex(0 if empty else 1)
        if empty:
            self._memory_timer.stop()
            return
        if PART_CURVES in parts:
            self.curves.refresh(self.state)
            self.memory_plot.refresh(self.state)
        if PART_RANKS in parts:
            self.slider.set_count(len(self.state.snapshots))
            self._show_snapshot()
            self.insights.refresh(self.state)
        if PART_PROGRESS in parts or PART_FINISH in parts:
            self.progress.refresh(self.state, live=self.live)
            running = self.state.status == STATUS_RUNNING and (self.live or self.replaying)
            if running and not self._memory_timer.isActive():
                self.progress.refresh_memory(self.state)
                self._memory_timer.start()
            elif not running:
                self._memory_timer.stop()
                self.progress.memory_label.setText("")
        if PART_LOG in parts:
            self.log_pane.refresh(self.state)
        if PART_FINISH in parts:
            ended = self.state.terminal is not None or not self.state.status == STATUS_RUNNING
            self.finish_panel.setVisible(ended)
            if ended:
                self.finish_panel.refresh(self.state)
                if self.report_tab.refresh(self.state):
                    self._schedule()  # its log line

    def show_report_tab(self) -> bool:
        """Bring the Report tab to the front (looking for the report first); False when the run has none."""
        if not self.report_tab.present and self.state.run_dir:
            self.report_tab.refresh(self.state)
            self._schedule()
        return self.report_tab.select()

    def _adapt_interval(self) -> None:
        """Space redraws so the GUI thread's CPU share (drawing and painting included) stays near the target."""
        cpu, wall = time.thread_time(), time.monotonic()
        used, elapsed = cpu - self._cpu_mark[0], wall - self._cpu_mark[1]
        self._cpu_mark = (cpu, wall)
        if elapsed <= 0 or elapsed > 5.0:  # idle for a while: start again from the fastest rate
            self._redraw_timer.setInterval(self.redraw_interval_ms)
            return
        wanted_ms = 1000 * used / GUI_CPU_TARGET  # one redraw per interval costs ~`used`: share = used / interval
        interval = int(min(MAX_REDRAW_INTERVAL_MS, max(self.redraw_interval_ms, wanted_ms)))
        # Move halfway each time: smooth, and quick to recover once drawing is cheap again.
        self._redraw_timer.setInterval((self._redraw_timer.interval() + interval) // 2)

    def _show_snapshot(self) -> None:
        index = self.slider.index
        snaps = self.state.snapshots
        snapshot = snaps[index] if 0 <= index < len(snaps) else None
        self.slider.describe(snapshot)
        if snapshot is self._shown_snapshot:
            return
        self._shown_snapshot = snapshot
        if snapshot is None:
            self.rank_bars.clear()
            self.heatmap.clear()
            return
        self.rank_bars.show_snapshot(snapshot, self.state.started)
        self.heatmap.show_snapshot(snapshot, self.state.started)

    # ------------------------------------------------------------------ export

    def export_plots(self, folder: str | Path) -> list[Path]:
        """Write every plot as PNG and SVG into ``folder``; returns the files."""
        self.redraw()
        plots = {**self.curves.plots, "rank_bars": self.rank_bars.widget.ci, "rank_heatmap": self.heatmap.widget.ci}
        if self.state.memory.has_cuda:
            plots["cuda_memory"] = self.memory_plot.plot
        files = save_plots(plots, Path(folder))
        self.plots_exported.emit(files)
        return files

    def export_plots_dialog(self) -> None:
        """Ask for a folder, then :meth:`export_plots`."""
        from ..exports import plots_start_folder

        start = plots_start_folder(self.state.run_dir)
        folder = QFileDialog.getExistingDirectory(self, "Save plots as PNG and SVG into…", start)
        if folder:
            files = self.export_plots(folder)
            self.state.logs.append(LogLine(time.time(), "info", f"Saved {len(files)} plot files to {folder}"))
            self.state.dirty.add(PART_LOG)
            self._schedule()
