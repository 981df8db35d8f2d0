"""Layer tick labels that stay readable from 6 to 80 layers: label every k-th layer in view (always the last
one), keep a minor tick at every layer, and recompute when the plot is zoomed, panned or resized."""

from __future__ import annotations

import math

PX_PER_LABEL = 34
"""Room one tick label ("L29", "other") needs, with a gap."""


def thin_ticks(ticks: list[tuple[float, str]], x_min: float, x_max: float, width_px: float,
               px_per_label: int = PX_PER_LABEL) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """(major labelled ticks, minor unlabelled ticks) for the layer ``ticks`` visible in ``[x_min, x_max]``
    on an axis ``width_px`` wide: every k-th label, counted back from the last one so it is always shown."""
    visible = [t for t in ticks if x_min <= t[0] <= x_max] or ticks
    room = max(1, int(width_px // px_per_label))
    k = max(1, math.ceil(len(visible) / room))
    if k == 1:
        return list(ticks), []
    last = len(ticks) - 1
    major = [t for i, t in enumerate(ticks) if (last - i) % k == 0]
    minor = [(x, "") for i, (x, _label) in enumerate(ticks) if (last - i) % k != 0]
    return major, minor
