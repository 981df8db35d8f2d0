"""A step slider to scrub back through past rank snapshots; "Live" follows the newest one."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QWidget

from ...core.events import RanksUpdated


class SnapshotSlider(QWidget):
    """Emits ``index_changed(int)`` with the snapshot to show (-1: none)."""

    index_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.slider.setToolTip("Scrub through the rank snapshots the run recorded")
        self.live_box = QCheckBox("Live")
        self.live_box.setChecked(True)
        self.live_box.setToolTip("Follow the newest snapshot")
        self.label = QLabel("No rank snapshots yet")
        self.label.setMinimumWidth(220)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(QLabel("Snapshot"))
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.live_box)
        layout.addWidget(self.label)
        self._count = 0
        self._updating = False
        self.slider.valueChanged.connect(self._on_value)
        self.live_box.toggled.connect(self._on_live)

    @property
    def live(self) -> bool:
        """Whether the newest snapshot is followed."""
        return self.live_box.isChecked()

    @property
    def index(self) -> int:
        """The selected snapshot (-1 when there is none)."""
        return self.slider.value() if self._count else -1

    def set_count(self, count: int) -> None:
        """There are now ``count`` snapshots; when live, select the newest."""
        self._count = count
        self._updating = True
        try:
            self.slider.setRange(0, max(0, count - 1))
            self.slider.setEnabled(count > 1)
            if self.live:
                self.slider.setValue(max(0, count - 1))
        finally:
            self._updating = False

    def set_index(self, index: int) -> None:
        """Select a snapshot (leaves Live mode unless it is the newest)."""
        self.slider.setValue(index)

    def describe(self, snapshot: RanksUpdated | None) -> None:
        """Say which snapshot is shown."""
        if snapshot is None:
            self.label.setText("No rank snapshots yet")
        else:
            self.label.setText(f"{self.index + 1}/{self._count}: step {snapshot.step}, {snapshot.phase}, "
                               f"budget {snapshot.budget}")

    def _on_value(self, value: int) -> None:
        if self._updating:
            self.index_changed.emit(value)
            return
        at_end = value >= self._count - 1
        if self.live != at_end:
            self.live_box.blockSignals(True)
            self.live_box.setChecked(at_end)
            self.live_box.blockSignals(False)
        self.index_changed.emit(value)

    def _on_live(self, checked: bool) -> None:
        if checked and self._count:
            self.slider.setValue(self._count - 1)
            self.index_changed.emit(self._count - 1)
