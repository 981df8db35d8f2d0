"""Pruning timeline: the whole run in one picture, matrices (y) by optimizer step (x), coloured by rank — the
time-resolved version of the AdaLoRA paper's Figure 3. Saves as PNG and SVG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from ...core.events import RanksUpdated
from . import _plotting as P
from .explorer_state import timeline_image
from .plot_export import save_plots

MAX_Y_LABELS = 48
"""Above this many matrices only every n-th is named on the axis (the colours still show every one)."""


def label_width(names: list[str]) -> int:
    """Pixels a left axis needs for these tick labels (pyqtgraph does not widen an axis for string ticks)."""
    return 14 + 7 * max((len(n) for n in names), default=4)


class PruningTimelineView(QWidget):
    """Rank of every matrix over time (call :meth:`show_snapshots`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.look = look = P.current_look()
        self.widget = pg.GraphicsLayoutWidget()
        self.widget.setBackground(look.background)
        self.widget.setMinimumSize(320, 220)
        self.plot: pg.PlotItem = self.widget.addPlot(row=0, col=0)
        P.style_plot(self.plot, "Pruning timeline: rank of each matrix over the run", "", look=look)
        self.plot.invertY(True)
        self.plot.setMouseEnabled(x=True, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("viridis"), interactive=False,
                                        width=14, label="rank", colorMapMenu=False)
        self.colorbar.setImageItem(self.image)
        self.widget.addItem(self.colorbar, row=0, col=1)
        for side in ("left", "right"):
            axis = self.colorbar.getAxis(side)
            axis.setPen(look.foreground)
            axis.setTextPen(look.foreground)
        self.colorbar.getAxis("left").setLabel("rank", color=look.foreground)
        self.hint = P.hint_text(self.plot, "The timeline fills in at each mask step", look=look)
        self.save_button = QPushButton("Save PNG/SVG…")
        self.save_button.clicked.connect(self.save_dialog)
        self.run_dir = ""
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.widget, 1)
        layout.addLayout(buttons)
        self.names: list[str] = []
        self.grid = np.empty((0, 0))

    def clear(self) -> None:
        """No timeline."""
        self.image.clear()
        self.names, self.grid = [], np.empty((0, 0))
        self.plot.getAxis("left").setTicks(None)
        self.hint.show()

    def show_snapshots(self, snapshots: Sequence[RanksUpdated], init_r: int = 0) -> None:
        """Draw the run's allocation so far."""
        columns, names, grid = timeline_image(snapshots)
        if not len(columns) or not names:
            self.clear()
            return
        self.hint.hide()
        self.names, self.grid = names, grid
        top = max(init_r, int(np.nanmax(grid)) if np.isfinite(grid).any() else 1, 1)
        self.image.setImage(np.nan_to_num(grid, nan=0.0), levels=(0, top))
        self.colorbar.setLevels((0, top))
        x0 = float(columns[0])
        width = max(float(columns[-1]) - x0, 1.0)
        step = width / max(len(columns) - 1, 1)
        self.image.setRect(QRectF(x0 - step / 2, -0.5, width + step, len(names)))
        every = max(1, -(-len(names) // MAX_Y_LABELS))
        self.plot.getAxis("left").setTicks([[(i, n) for i, n in enumerate(names) if i % every == 0], []])
        self.plot.getAxis("left").setWidth(label_width(names))
        self.plot.setYRange(-0.5, len(names) - 0.5, padding=0)
        self.plot.setXRange(x0 - step / 2, x0 + width + step / 2, padding=0)

    def export(self, folder: str | Path, name: str = "pruning_timeline") -> list[Path]:
        """Write ``<name>.png`` and ``<name>.svg`` into ``folder``."""
        return save_plots({name: self.widget.ci}, Path(folder))

    def save_dialog(self) -> None:
        """Ask for a folder, then :meth:`export`."""
        start = str(Path(self.run_dir) / "plots") if self.run_dir else ""
        folder = QFileDialog.getExistingDirectory(self, "Save the pruning timeline as PNG and SVG into…", start)
        if folder:
            self.export(folder)
