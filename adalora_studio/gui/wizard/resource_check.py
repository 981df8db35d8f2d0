"""The review page's "Check resources": will the run fit, and how long will it take?

A short measured dry run (a few real optimizer steps on the real model and data, ``core.training.measure_run``)
runs on the worker thread; this box shows its progress with a Stop button, then seconds per step, peak RAM, peak
VRAM on CUDA, the projected whole-run time including evaluation, and whether it fits. When it does not, it says
which setting helps, with numbers. The dry run writes only to a temporary folder that it removes: no run folder
is left behind. "Judge against a machine with N MiB" re-judges the measured numbers for another machine (or GPU)
without measuring again.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.config import validate_config
from ...core.events import StopToken
from ..labels import for_gui
from . import preflight_jobs
from .jobs import Problem
from .page import InlineMessage
from .state import WizardState

POLL_MS = 200
"""How often the box reads the dry run's progress while it runs."""
CHANNEL = "preflight"


def _mib(value: float) -> str:
    return f"{value:,.0f} MiB"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def report_rows(report: Any) -> list[tuple[str, str]]:
    """(label, value) rows of a ``PreflightReport`` for a person."""
    rows = [
        ("Time per step", f"{report.s_per_step:.3f} s ({report.steps_per_s:.2f} steps/s), median of "
                          f"{report.steps_measured} measured steps on {report.device}"),
        ("Whole run", f"about {_duration(report.projected_s)}: {report.total_steps:,} optimizer steps and "
                      f"{report.n_evals} evaluation{'' if report.n_evals == 1 else 's'} of "
                      f"{report.eval_s:.1f} s each"),
        ("Peak RAM", f"{_mib(report.peak_ram_mb)} (the run adds {_mib(report.peak_ram_mb - report.base_ram_mb)}; "
                     f"{_mib(report.available_ram_mb)} available)"),
    ]
    if report.peak_vram_mb is None:
        rows.append(("Peak VRAM", "— (not a CUDA run)"))
    else:
        rows.append(("Peak VRAM", f"{_mib(report.peak_vram_mb)} of {_mib(report.total_vram_mb or 0.0)}"))
    rows.append(("Fits", "yes" if report.fits else f"no ({report.memory_kind})"))
    return rows


class ResourceCheck(QGroupBox):
    """Check resources / Stop, the dry run's progress, then its measured numbers and the verdict."""

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__("Will it fit, and how long?", parent)
        self.state = state
        self.report: Any = None
        """The last ``PreflightReport`` (as measured, before any limit), or None."""
        self._measured_for: Any = None
        self._stop: StopToken | None = None
        self._progress: preflight_jobs.PreflightProgress | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._show_progress)
        lay = QVBoxLayout(self)
        lay.addLayout(self._build_buttons())
        lay.addLayout(self._build_limit())
        self.result = QLabel("", self)
        self.result.setWordWrap(True)
        self.result.hide()
        lay.addWidget(self.result)
        self.verdict = InlineMessage(self)
        self.verdict.setObjectName("resourceVerdict")
        lay.addWidget(self.verdict)
        state.config_changed.connect(lambda _cfg: self._mark_stale())

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.check_button = QPushButton("Check resources", self)
        self.check_button.setToolTip("Train a few real optimizer steps on the real model and data (in a temporary "
                                     "folder, removed afterwards) and measure time and memory")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop the check at the next optimizer step")
        self.stop_button.hide()
        self.bar = QProgressBar(self)
        self.bar.hide()
        self.phase = QLabel("", self)
        self.phase.setWordWrap(True)
        row.addWidget(self.check_button)
        row.addWidget(self.stop_button)
        row.addWidget(self.bar, 1)
        row.addWidget(self.phase, 2)
        self.check_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        return row

    def _build_limit(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.limit_box = QCheckBox("Judge against a machine with", self)
        self.limit_box.setToolTip("Say whether the run would fit on another machine or GPU (RAM on CPU, VRAM on "
                                  "CUDA), from the same measurements")
        self.limit_spin = QSpinBox(self)
        self.limit_spin.setRange(1, 10_000_000)
        self.limit_spin.setValue(16_384)
        self.limit_spin.setSuffix(" MiB")
        self.limit_spin.setEnabled(False)
        row.addWidget(self.limit_box)
        row.addWidget(self.limit_spin)
        row.addStretch(1)
        self.limit_box.toggled.connect(self.limit_spin.setEnabled)
        self.limit_box.toggled.connect(lambda _on: self._show_report())
        self.limit_spin.valueChanged.connect(lambda _v: self._show_report())
        return row

    # ------------------------------------------------------------------ running
    @property
    def running(self) -> bool:
        """A check was started and has not reported yet."""
        return self._progress is not None

    def start(self) -> None:
        """Start the dry run of the wizard's config on the worker (refused while the config has errors)."""
        if self.running:
            return
        cfg = self.state.config
        problems = validate_config(cfg)
        if problems:
            self.verdict.show_message(html.escape(f"Fix the config first: {for_gui(str(problems[0]))}"))
            return
        self._stop, self._progress = StopToken(), preflight_jobs.PreflightProgress()
        self._measured_for = cfg
        self.check_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.stop_button.setText("Stop")
        self.stop_button.show()
        self.bar.setRange(0, self._progress.total)
        self.bar.setValue(0)
        self.bar.show()
        self.verdict.show_message(None)
        self._show_progress()
        self._poll.start()
        self.state.submit(CHANNEL, preflight_jobs.check_resources, (cfg, self._progress, self._stop),
                          self._on_result, lambda message, _detail: self._on_result(Problem(message)))

    def stop(self) -> None:
        """Ask the dry run to stop at its next optimizer step (nothing is kept)."""
        if self._stop is not None:
            self._stop.request_stop()
            self.stop_button.setEnabled(False)
            self.stop_button.setText("Stopping…")

    def _show_progress(self) -> None:
        progress = self._progress
        if progress is None:
            return
        self.bar.setValue(min(progress.step, progress.total))
        waiting = not progress.step and getattr(self.state.worker, "is_running", False)
        self.phase.setText("Waiting for the run in progress to end…" if waiting else progress.phase)

    def _on_result(self, result: Any) -> None:
        stopped = self._stop is not None and self._stop.stop_requested
        self._poll.stop()
        self._stop = self._progress = None
        self.check_button.setEnabled(True)
        self.stop_button.hide()
        self.bar.hide()
        self.phase.setText("")
        if isinstance(result, Problem):
            self.report = None
            self.result.hide()
            text = ("Stopped: nothing was measured or kept." if stopped
                    else f"The check could not run: {for_gui(result.message)}")
            self.verdict.show_message(html.escape(text), "warning" if stopped else "error")
            return
        self.report = result
        self._show_report()

    # ------------------------------------------------------------------ showing
    def judged(self) -> Any:
        """The report as shown: against the limit when one is set."""
        if self.report is None or not self.limit_box.isChecked():
            return self.report
        return self.report.with_memory_limit(self.limit_spin.value())

    def _show_report(self) -> None:
        report = self.judged()
        if report is None:
            return
        rows = report_rows(report)
        self.result.setText("<table cellspacing=3>" + "".join(
            f"<tr><td valign=top><b>{k}</b></td><td>{html.escape(v)}</td></tr>" for k, v in rows) + "</table>")
        self.result.show()
        against = (f" against {self.limit_spin.value():,} MiB" if self.limit_box.isChecked() else "")
        if report.fits:
            self.verdict.show_message(f"It fits{against}. The whole run should take about "
                                      f"{_duration(report.projected_s)}.", "info")
        else:
            lines = [for_gui(line.strip()) for line in report.advice()]
            head = f"It does not fit in {report.memory_kind}{against}. {lines[0] if lines else ''}"
            items = "".join(f"<br>• {html.escape(line.lstrip('- '))}" for line in lines[1:])
            self.verdict.show_message(html.escape(head) + items, "error")
        self._mark_stale()

    def _mark_stale(self) -> None:
        if self.report is None or self.running:
            return
        stale = self._measured_for != self.state.config
        self.phase.setText("The config changed since this check: check again." if stale else "")
