"""Shared look of the dashboard's pyqtgraph plots: background and text follow the application palette (light or
dark), with line colours chosen to read on that background."""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtGui import QGuiApplication, QPalette

BACKGROUND = "w"
FOREGROUND = "#333333"
GRID_ALPHA = 0.25

# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), yellow replaced by a darker
# gold so it reads on white.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#B8860B", "#555555",
           "#8C564B", "#17BECF")
DARK_PALETTE = ("#3A9BDC", "#E69F00", "#19B88A", "#CC79A7", "#56B4E9", "#E8711C", "#F0C300", "#BBBBBB",
                "#C49C94", "#17BECF")
"""The same hues for a dark background: the dark blue, grey and brown lightened, the gold back to yellow."""

LOSS_RAW = "#9ecae1"
LOSS_SMOOTH = "#08519c"
EVAL = "#d62728"
LR = "#2ca02c"
BUDGET = "#6a3d9a"
HELD = "#ff7f0e"
MARKER = "#888888"


@dataclass(frozen=True)
class Look:
    """Colours of the dashboard plots for one background."""

    dark: bool
    background: str
    foreground: str
    hint: str
    """Grey text of the hints in empty plots."""
    legend_fill: tuple[int, int, int, int]
    """Behind legends and line labels, so they stay readable over data."""
    reference: str
    """The init_r reference line."""
    types: tuple[str, ...]
    loss_raw: str = LOSS_RAW
    loss_smooth: str = LOSS_SMOOTH
    eval: str = EVAL
    lr: str = LR
    budget: str = BUDGET
    held: str = HELD
    marker: str = MARKER

    def type_color(self, index: int) -> str:
        """Colour of the ``index``-th matrix type."""
        return self.types[index % len(self.types)]


LIGHT = Look(dark=False, background="#ffffff", foreground=FOREGROUND, hint="#777777",
             legend_fill=(255, 255, 255, 210), reference="#444444", types=PALETTE)
DARK = Look(dark=True, background="#1d1e21", foreground="#e8e8ea", hint="#9a9ca3", legend_fill=(38, 39, 43, 215),
            reference="#c8c8cc", types=DARK_PALETTE, loss_raw="#3f6f94", loss_smooth="#7cc4f5", eval="#ff6b6b",
            lr="#5cc969", budget="#b39ddb", held="#ffa040", marker="#9a9ca3")


def current_look() -> Look:
    """The look matching the application palette (light text on a dark window -> :data:`DARK`)."""
    app = QGuiApplication.instance()
    if app is None:
        return LIGHT
    palette = QGuiApplication.palette()
    window = palette.color(QPalette.ColorRole.Window).lightness()
    text = palette.color(QPalette.ColorRole.WindowText).lightness()
    if window >= text:
        return LIGHT
    base = palette.color(QPalette.ColorRole.Base)
    return Look(**{**DARK.__dict__, "background": base.name()}) if base.lightness() < 128 else DARK


def type_color(index: int) -> str:
    """Colour of the ``index``-th matrix type (light look; views use ``Look.type_color``)."""
    return PALETTE[index % len(PALETTE)]


LEFT_AXIS_WIDTH = 64
"""Fixed width of the curves' left axes, so x-linked plots line up step for step."""


def style_plot(plot: pg.PlotItem, title: str, left: str, bottom: str = "optimizer step",
               left_width: int | None = None, look: Look | None = None) -> None:
    """Title, axis labels without SI prefixes, no grid, text in the look's foreground (``left_width``: fix the
    left axis width)."""
    fg = (look or current_look()).foreground
    plot.setTitle(title, color=fg, size="10pt")
    for name, label in (("left", left), ("bottom", bottom)):
        axis = plot.getAxis(name)
        axis.showLabel(False)  # pyqtgraph 0.14 still applies an SI scale (x1000 for a 0-1 range) when the prefix
        axis.enableAutoSIPrefix(False)  # is switched off on a visible label; hidden, the scale resets to 1
        axis.setLabel(label, color=fg)
        axis.setPen(fg)
        axis.setTextPen(fg)
    if left_width is not None:
        plot.getAxis("left").setWidth(left_width)
    plot.showGrid(x=False, y=False)
    plot.setMenuEnabled(True)


def hint_text(plot: pg.PlotItem, text: str, look: Look | None = None) -> pg.TextItem:
    """A grey hint shown in the middle of an empty plot (hide it once data arrives)."""
    item = pg.TextItem(text, color=(look or current_look()).hint, anchor=(0.5, 0.5))
    item.setZValue(10)
    plot.addItem(item, ignoreBounds=True)
    item.setPos(0.5, 0.5)
    plot.getViewBox().sigRangeChanged.connect(lambda vb, rng: _centre(item, vb))
    return item


def _centre(item: pg.TextItem, vb: pg.ViewBox) -> None:
    (x0, x1), (y0, y1) = vb.viewRange()
    item.setPos((x0 + x1) / 2, (y0 + y1) / 2)
