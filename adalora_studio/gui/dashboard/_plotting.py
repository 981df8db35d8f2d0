"""Shared look of the dashboard's pyqtgraph plots: white background, dark axes, readable colours."""

from __future__ import annotations

import pyqtgraph as pg

BACKGROUND = "w"
FOREGROUND = "#333333"
GRID_ALPHA = 0.25

# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), yellow replaced by a darker
# gold so it reads on white.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#B8860B", "#555555",
           "#8C564B", "#17BECF")

LOSS_RAW = "#9ecae1"
LOSS_SMOOTH = "#08519c"
EVAL = "#d62728"
LR = "#2ca02c"
BUDGET = "#6a3d9a"
HELD = "#ff7f0e"
MARKER = "#888888"


def type_color(index: int) -> str:
    """Colour of the ``index``-th matrix type."""
    return PALETTE[index % len(PALETTE)]


LEFT_AXIS_WIDTH = 64
"""Fixed width of the curves' left axes, so x-linked plots line up step for step."""


def style_plot(plot: pg.PlotItem, title: str, left: str, bottom: str = "optimizer step",
               left_width: int | None = None) -> None:
    """Title, axis labels without SI prefixes, light grid, dark text (``left_width``: fix the left axis width)."""
    plot.setTitle(title, color=FOREGROUND, size="10pt")
    for name, label in (("left", left), ("bottom", bottom)):
        axis = plot.getAxis(name)
        axis.enableAutoSIPrefix(False)
        axis.setLabel(label, color=FOREGROUND)
        axis.setPen(FOREGROUND)
        axis.setTextPen(FOREGROUND)
    if left_width is not None:
        plot.getAxis("left").setWidth(left_width)
    plot.showGrid(x=False, y=False)
    plot.setMenuEnabled(True)


def hint_text(plot: pg.PlotItem, text: str) -> pg.TextItem:
    """A grey hint shown in the middle of an empty plot (hide it once data arrives)."""
    item = pg.TextItem(text, color="#777777", anchor=(0.5, 0.5))
    item.setZValue(10)
    plot.addItem(item, ignoreBounds=True)
    item.setPos(0.5, 0.5)
    plot.getViewBox().sigRangeChanged.connect(lambda vb, rng: _centre(item, vb))
    return item


def _centre(item: pg.TextItem, vb: pg.ViewBox) -> None:
    (x0, x1), (y0, y1) = vb.viewRange()
    item.setPos((x0 + x1) / 2, (y0 + y1) / 2)
