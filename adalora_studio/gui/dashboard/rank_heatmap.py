"""Rank heatmap: layer (x) by matrix type (y), the view of the AdaLoRA paper's Figure 3, with a colour bar and
the rank written in each cell while cells are big enough to read it. Zoom (wheel) and pan (drag) along the
layers; labels thin out to fit and the digits come back when zoomed in."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ...core.events import RanksUpdated, RunStarted
from . import _plotting as P
from .state import rank_grid
from .ticks import thin_ticks

MAX_LABELLED_CELLS = 1000
"""Above this many cells no digits are made at all (they are hidden anyway until zoomed in far enough)."""
COLORMAP = "viridis"
MIN_CELL_PX = (18.0, 13.0)
"""Below this cell size (width, height in pixels) the digits would be crammed: only the colours are drawn."""


class RankHeatmapView(QWidget):
    """A heatmap of one snapshot's ranks (call :meth:`show_snapshot`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.look = look = P.current_look()
        self.widget = pg.GraphicsLayoutWidget()
        self.widget.setBackground(look.background)
        self.widget.setMinimumSize(300, 180)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.widget)
        self.plot: pg.PlotItem = self.widget.addPlot(row=0, col=0)
        P.style_plot(self.plot, "Rank by layer (x) and matrix type (y)", "", "layer", look=look)
        self.plot.showGrid(x=False, y=False)
        self.plot.invertY(True)
        self.plot.setMouseEnabled(x=True, y=False)
        self._layer_ticks: list[tuple[float, str]] = []
        self.image = pg.ImageItem(axisOrder="col-major")
        self.plot.addItem(self.image)
        self.cmap = pg.colormap.get(COLORMAP)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=self.cmap, interactive=False, width=14,
                                        label="rank", colorMapMenu=False)
        self.colorbar.setImageItem(self.image)
        self.widget.addItem(self.colorbar, row=0, col=1)
        axis = self.colorbar.getAxis("right")
        axis.setPen(look.foreground)
        axis.setTextPen(look.foreground)
        self.colorbar.getAxis("left").setLabel("rank", color=look.foreground)
        self.labels: list[pg.TextItem] = []
        self.grid = np.empty((0, 0))
        self.layers: list[str] = []
        self.types: list[str] = []
        self._levels: tuple[int, int] = (0, 0)
        self._shown = np.empty((0, 0))
        self.hint = P.hint_text(self.plot, "No rank snapshot yet", look=look)
        # The last layer's label may reach past the axis end by half a label: draw it rather than drop it.
        self.plot.getAxis("bottom").setStyle(hideOverlappingLabels=24)
        vb = self.plot.getViewBox()
        vb.sigXRangeChanged.connect(lambda *_: self._fit_labels())
        vb.sigResized.connect(lambda *_: self._fit_labels())

    def clear(self) -> None:
        """No heatmap."""
        self.image.clear()
        self._set_labels(np.empty((0, 0)), 1)
        self.grid, self.layers, self.types = np.empty((0, 0)), [], []
        self._levels, self._shown = (0, 0), np.empty((0, 0))
        self._layer_ticks = []
        self.plot.getAxis("bottom").setTicks(None)
        self.hint.show()

    def show_snapshot(self, snapshot: RanksUpdated, started: RunStarted | None) -> None:
        """Draw one snapshot's ranks as a layer x type grid."""
        layers, types, grid = rank_grid(snapshot)
        init_r = started.init_r if started else int(np.nanmax(grid, initial=1))
        levels = (0, max(1, init_r))
        self.image.setImage(grid, levels=levels, autoLevels=False)
        relabel = (layers, types) != (self.layers, self.types) or levels != self._levels
        if relabel:
            self.colorbar.setLevels(levels)
            self.image.setRect(-0.5, -0.5, len(layers), len(types))
            self._layer_ticks = [(float(i), label) for i, label in enumerate(layers)]
            self.plot.getAxis("left").setTicks([list(enumerate(types)), []])
            self.plot.getViewBox().setLimits(xMin=-0.5, xMax=len(layers) - 0.5, minXRange=3)
            self.plot.setXRange(-0.5, len(layers) - 0.5, padding=0)
            self.plot.setYRange(-0.5, len(types) - 0.5, padding=0)
            self._set_labels(grid, levels[1])
            self._shown = np.full(grid.shape, -1.0)
        self._update_labels(grid, levels[1])
        self.grid, self.layers, self.types, self._levels = grid, layers, types, levels
        self.hint.hide()
        self._fit_labels()

    def cell_size_px(self) -> tuple[float, float]:
        """On-screen size of one cell at the current zoom (width, height)."""
        vb = self.plot.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        return vb.width() / max(x1 - x0, 1e-9), vb.height() / max(y1 - y0, 1e-9)

    @property
    def digits_shown(self) -> bool:
        """Whether the ranks are written in the cells (they are hidden while the cells are too small)."""
        return bool(self.labels) and self.labels[0].isVisible()

    def _fit_labels(self) -> None:
        if self._layer_ticks:
            (x0, x1) = self.plot.getViewBox().viewRange()[0]
            major, minor = thin_ticks(self._layer_ticks, x0, x1, self.plot.getViewBox().width() or 600)
            self.plot.getAxis("bottom").setTicks([major, minor])
        w, h = self.cell_size_px()
        show = w >= MIN_CELL_PX[0] and h >= MIN_CELL_PX[1]
        for item in self.labels:
            item.setVisible(show)

    def _set_labels(self, grid: np.ndarray, top: float) -> None:
        for item in self.labels:
            self.plot.removeItem(item)
        self.labels = []
        if grid.size == 0 or grid.size > MAX_LABELLED_CELLS:
            return
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                item = pg.TextItem("", anchor=(0.5, 0.5))
                item.setPos(i, j)
                self.plot.addItem(item)
                self.labels.append(item)

    def _update_labels(self, grid: np.ndarray, top: float) -> None:
        if not self.labels:
            return
        shown = self._shown.reshape(-1)
        for k, (item, value) in enumerate(zip(self.labels, grid.reshape(-1), strict=False)):
            if value == shown[k] or (np.isnan(value) and np.isnan(shown[k])):
                continue  # unchanged cell: setText costs a text layout
            shown[k] = value
            if np.isnan(value):
                item.setText("")
                continue
            # Dark text on the light (high) end of viridis, light text on the dark end.
            item.setColor("#111111" if value / top > 0.6 else "#f5f5f5")
            item.setText(f"{int(value)}")
