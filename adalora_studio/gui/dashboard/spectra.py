"""Λ spectra: every matrix's singular values (``lora_E``) as a grid, matrices (y) by triplet (x) sorted by |Λ|,
coloured by |Λ|; pruned triplets left blank. For a run's newest snapshot that carried Λ, or a saved adapter."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ...core.events import RanksUpdated
from . import _plotting as P
from .pruning_timeline import MAX_Y_LABELS, label_width


def spectra_grid(snapshot: RanksUpdated) -> tuple[list[str], np.ndarray]:
    """(matrix names, |Λ|[matrix, position]) with each row's kept values sorted largest first, NaN after them."""
    rows = [m for m in snapshot.matrices if m.singular_values]
    width = max((len(m.singular_values) for m in rows), default=0)
    grid = np.full((len(rows), width), np.nan)
    for i, m in enumerate(rows):
        flags = m.kept if len(m.kept) == len(m.singular_values) else (True,) * len(m.singular_values)
        kept = sorted((abs(v) for v, k in zip(m.singular_values, flags, strict=True) if k and not math.isnan(v)),
                      reverse=True)
        grid[i, :len(kept)] = kept
    return [m.name for m in rows], grid


class SpectraView(QWidget):
    """The Λ spectra of one snapshot (call :meth:`show_snapshot`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.look = look = P.current_look()
        self.widget = pg.GraphicsLayoutWidget()
        self.widget.setBackground(look.background)
        self.widget.setMinimumSize(300, 200)
        self.plot: pg.PlotItem = self.widget.addPlot(row=0, col=0)
        P.style_plot(self.plot, "Singular values |Λ| of the kept triplets, largest first", "",
                     "triplet (sorted by |Λ|)", look=look)
        self.plot.invertY(True)
        self.plot.setMouseEnabled(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("magma"), interactive=False,
                                        width=14, label="|Λ|", colorMapMenu=False)
        self.colorbar.setImageItem(self.image)
        self.widget.addItem(self.colorbar, row=0, col=1)
        for side in ("left", "right"):
            self.colorbar.getAxis(side).setPen(look.foreground)
            self.colorbar.getAxis(side).setTextPen(look.foreground)
        self.colorbar.getAxis("left").setLabel("|Λ|", color=look.foreground)
        self.hint = P.hint_text(self.plot, "Λ appears at the first mask step", look=look)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.widget)
        self.names: list[str] = []
        self.grid = np.empty((0, 0))

    def clear(self) -> None:
        """Nothing to show."""
        self.image.clear()
        self.names, self.grid = [], np.empty((0, 0))
        self.hint.show()

    def show_snapshot(self, snapshot: RanksUpdated | None) -> None:
        """Draw the spectra of ``snapshot`` (nothing when it carries no Λ)."""
        names, grid = spectra_grid(snapshot) if snapshot is not None else ([], np.empty((0, 0)))
        if not names or not np.isfinite(grid).any():
            self.clear()
            return
        self.names, self.grid = names, grid
        self.hint.hide()
        top = float(np.nanmax(grid)) or 1.0
        self.image.setImage(grid, levels=(0, top))
        self.colorbar.setLevels((0, top))
        self.image.setRect(-0.5, -0.5, grid.shape[1], grid.shape[0])
        every = max(1, -(-len(names) // MAX_Y_LABELS))
        self.plot.getAxis("left").setTicks([[(i, n) for i, n in enumerate(names) if i % every == 0], []])
        self.plot.getAxis("left").setWidth(label_width(names))
        self.plot.getAxis("bottom").setTicks([[(j, str(j + 1)) for j in range(grid.shape[1])], []])
        self.plot.setXRange(-0.5, grid.shape[1] - 0.5, padding=0)
        self.plot.setYRange(-0.5, len(names) - 0.5, padding=0)
