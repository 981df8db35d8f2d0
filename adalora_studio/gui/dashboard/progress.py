"""The run's status line: state, progress bar (step/total), ETA, samples/s, device and memory, Stop/Resume.

Two labels come from the run's events, so they are right for a replay and for a run in other processes too:
the optimizer steps the fp16 gradient scaler skipped (shown only when there are some) and CUDA memory, allocated
and peak (shown only for a CUDA run).
"""

from __future__ import annotations

import math
import os
import sys

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from .state import (
    STATUS_EMPTY,
    STATUS_FAILED,
    STATUS_FINISHED,
    STATUS_INTERRUPTED,
    STATUS_RUNNING,
    STATUS_STOPPED,
    DashboardState,
)

STATUS_STYLE = {
    STATUS_EMPTY: ("No run", "#777777"),
    STATUS_RUNNING: ("Running", "#1f6feb"),
    STATUS_FINISHED: ("Finished", "#1a7f37"),
    STATUS_STOPPED: ("Stopped", "#9a6700"),
    STATUS_FAILED: ("Failed", "#cf222e"),
    STATUS_INTERRUPTED: ("Interrupted", "#9a6700"),
}


def format_duration(seconds: float) -> str:
    """``1h 02m``, ``3m 05s`` or ``42s``; ``–`` when unknown."""
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s}s"


def format_bytes(n: float) -> str:
    """``812 MB``, ``1.4 GB``."""
    if n >= 1 << 30:
        return f"{n / (1 << 30):.1f} GB"
    return f"{n / (1 << 20):.0f} MB"


def process_rss_bytes() -> int | None:
    """Resident memory of this process: /proc on Linux, else the peak from ``resource`` (None if unknown)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def cuda_text(state: DashboardState) -> str:
    """``CUDA 812 MB · peak 1.4 GB`` from the run's newest step ('' when its steps carry no CUDA memory)."""
    memory = state.memory
    if not memory.has_cuda:
        return ""
    now = memory.allocated_mb.last() * 2**20
    return f"CUDA {format_bytes(now)} · peak {format_bytes(memory.peak * 2**20)}"


def skipped_text(state: DashboardState) -> str:
    """``3 steps skipped (fp16)`` ('' when none was skipped)."""
    n = state.memory.skipped_steps
    return f"⚠ {n} step{'' if n == 1 else 's'} skipped (fp16)" if n else ""


def ram_in_use() -> str:
    """``RAM 812 MB``: resident memory of this process."""
    rss = process_rss_bytes()
    return f"RAM {format_bytes(rss)}" if rss is not None else "RAM –"


def memory_in_use(device: str) -> str:
    """What the run's device holds: torch's CUDA allocation on a GPU (never imports torch), else process RSS."""
    torch = sys.modules.get("torch")
    if device.startswith("cuda") and torch is not None:
        try:
            allocated = torch.cuda.memory_allocated()
            reserved = torch.cuda.memory_reserved()
            return f"GPU {format_bytes(allocated)} (reserved {format_bytes(reserved)})"
        except RuntimeError:
            pass
    return ram_in_use()


class ProgressView(QWidget):
    """One row: state pill, progress bar, numbers, Stop and Resume buttons."""

    stop_clicked = Signal()
    resume_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state_label = QLabel()
        self.state_label.setMinimumWidth(90)
        self.bar = QProgressBar()
        self.bar.setMinimumWidth(220)
        self.bar.setTextVisible(True)
        self.eta_label = QLabel()
        self.speed_label = QLabel()
        self.device_label = QLabel()
        self.memory_label = QLabel()
        self.cuda_label = QLabel()
        self.cuda_label.setToolTip("CUDA memory the run holds now, and its peak so far (from the run's steps)")
        self.skipped_label = QLabel()
        self.skipped_label.setStyleSheet("QLabel { color: #9a6700; font-weight: bold; }")
        self.skipped_label.setToolTip("Optimizer steps the fp16 gradient scaler skipped after inf/NaN gradients; "
                                      "each was retried with the next batch, so the run still makes every update. "
                                      "The log says when.")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current optimizer step and save a checkpoint you can resume")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue this run from its last checkpoint")
        self.stop_button.clicked.connect(self.stop_clicked)
        self.resume_button.clicked.connect(self.resume_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.state_label)
        layout.addWidget(self.bar, 1)
        for label in (self.eta_label, self.speed_label, self.device_label, self.memory_label, self.cuda_label,
                      self.skipped_label):
            layout.addWidget(label)
        layout.addWidget(self.stop_button)
        layout.addWidget(self.resume_button)
        self._stopping = False
        self._status = ""
        self.refresh(DashboardState())

    def set_stopping(self) -> None:
        """A stop was requested: say so until the run ends."""
        self._stopping = True
        self.stop_button.setEnabled(False)
        self.stop_button.setText("Stopping…")

    def refresh(self, state: DashboardState, live: bool = True) -> None:
        """Show the state's numbers; ``live`` says whether this app is driving the run (Stop is possible)."""
        if state.status != self._status:
            text, colour = STATUS_STYLE.get(state.status, (state.status, "#777777"))
            self.state_label.setText(text)
            self.state_label.setStyleSheet(  # re-polishing is costly: only when the state changes
                f"QLabel {{ color: white; background: {colour}; border-radius: 4px; padding: 2px 8px; "
                "font-weight: bold; }")
            self._status = state.status
        total, step = state.total_steps, state.current_step
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(min(step, max(total, 1)))
        self.bar.setFormat(f"step {step} / {total}  (%p%)" if total else "no run")
        last = state.last_step
        running = state.status == STATUS_RUNNING
        eta = state.pace.eta(step, total, last.eta_s) if last else math.nan
        self.eta_label.setText(f"ETA {format_duration(eta)}" if last and running else
                               (f"took {format_duration(last.elapsed_s)}" if last else ""))
        average = state.pace.average_sps
        if last and running:
            self.speed_label.setText(f"{last.samples_per_s:.1f} samples/s")
        else:  # an ended run: the run's average, not the last step's instantaneous rate
            self.speed_label.setText(f"avg {average:.1f} samples/s" if last and math.isfinite(average) else "")
        started = state.started
        self.device_label.setText(f"{started.device} · {started.precision}" if started else "")
        for label, text in ((self.cuda_label, cuda_text(state)), (self.skipped_label, skipped_text(state))):
            if label.text() != text:
                label.setText(text)
            label.setVisible(bool(text))
        if not running:
            self._stopping = False
            self.stop_button.setText("Stop")
        self.stop_button.setEnabled(running and live and not self._stopping)
        self.resume_button.setEnabled(state.can_resume)

    def refresh_memory(self, state: DashboardState) -> None:
        """Update the memory label (called about once a second, not on every redraw)."""
        started = state.started
        if started is None:
            self.memory_label.setText("")
        else:  # CUDA memory from the events is in its own label; then this one shows RAM only
            self.memory_label.setText(ram_in_use() if state.memory.has_cuda else memory_in_use(started.device))
