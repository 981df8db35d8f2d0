"""File ▸ Open adapter…: any AdaLoRA adapter folder (ours or not) in a window with the rank bars, the heatmap and
the Λ spectra; any other folder gets a message saying what it is (plain LoRA, another peft type, not an adapter).

What the folder is comes from its JSON and the safetensors header (no torch, so on the GUI thread); the tensors
(for Λ) are read by a job on the torch worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QLabel, QSplitter, QVBoxLayout, QWidget

from ..core.adalora import KIND_ADALORA, classify_folder
from ..core.events import RanksUpdated


def adapter_snapshot_job(folder: str) -> RanksUpdated:
    """Worker job: the saved adapter as one rank snapshot (reads the tensors with torch)."""
    from ..core.adalora import adapter_snapshot

    return adapter_snapshot(folder)


class AdapterViewer(QDialog):
    """One saved adapter: bars, heatmap and Λ spectra of its final allocation."""

    def __init__(self, folder: str | Path, message: str, snapshot: RanksUpdated,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from .dashboard.rank_bars import RankBarsView
        from .dashboard.rank_heatmap import RankHeatmapView
        from .dashboard.spectra import SpectraView

        self.setWindowTitle(f"Adapter — {Path(folder).name}")
        self.resize(1100, 760)
        self.header = QLabel(f"<b>{folder}</b><br>{message} Importance scores are not saved by peft, so only the "
                             "final allocation and its singular values can be shown.")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rank_bars = RankBarsView()
        self.heatmap = RankHeatmapView()
        self.spectra = SpectraView()
        split = QSplitter(Qt.Orientation.Vertical)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.rank_bars)
        top.addWidget(self.heatmap)
        split.addWidget(top)
        split.addWidget(self.spectra)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(split, 1)
        self.snapshot = snapshot
        self.rank_bars.show_snapshot(snapshot, None)
        self.heatmap.show_snapshot(snapshot, None)
        self.spectra.show_snapshot(snapshot)


def open_adapter_dialog(window: Any) -> None:
    """Ask for a folder, then :func:`open_adapter`."""
    folder = QFileDialog.getExistingDirectory(window, "Open an adapter folder (or a run folder)", str(Path.home()))
    if folder:
        open_adapter(window, folder)


def open_adapter(window: Any, folder: str) -> Any:
    """Show ``folder`` (an AdaLoRA adapter, a run folder) in an :class:`AdapterViewer`, or say what it is instead.
    Returns the worker job reading the tensors (None when the folder is not AdaLoRA)."""
    kind = classify_folder(folder)
    if kind.kind != KIND_ADALORA:
        window.notify(kind.message)
        return None
    window.statusBar().showMessage(f"Reading {kind.path}…")
    job = window.worker.submit(adapter_snapshot_job, str(kind.path))

    def show(snapshot: RanksUpdated) -> None:
        viewer = AdapterViewer(kind.path, kind.message, snapshot, window)
        window.adapter_viewers = [*getattr(window, "adapter_viewers", []), viewer]
        viewer.show()
        window.statusBar().showMessage(f"Opened adapter {kind.path}", 8000)

    job.succeeded.connect(show)
    job.failed.connect(lambda message, detail: window.notify(f"Cannot read the adapter in {kind.path}: {message}",
                                                              warning=True, detail=detail))
    return job
