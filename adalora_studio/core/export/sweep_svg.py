"""The budget-sweep figure as Qt-free SVG: final metric against effective adapter parameters, one line per
method, each point the mean over seeds with a bar of ± the seed spread (the AdaLoRA paper's central plot, drawn
for the user's own data)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from .plots_svg import COLOURS, _Chart

SweepPoint = tuple[float, float, float]
"""``(effective params, metric mean, spread)``."""


def sweep_svg(series: Mapping[str, Sequence[SweepPoint]], metric: str, title: str = "") -> str | None:
    """One polyline with markers per series (sorted by x) and vertical ± spread bars; None with no points."""
    lines = {name: sorted(points) for name, points in series.items() if points}
    if not lines:
        return None
    xs = [[p[0] for p in pts] for pts in lines.values()]
    ys = [[v for p in pts for v in (p[1] - p[2], p[1] + p[2])] for pts in lines.values()]
    chart = _Chart(title or f"Final {metric} against effective adapter parameters", "effective adapter parameters",
                   metric, xs, ys)
    for i, (name, pts) in enumerate(lines.items()):
        colour = COLOURS[i % len(COLOURS)]
        chart.line([p[0] for p in pts], [p[1] for p in pts], colour, name, width=2, markers=True)
        for x, mean, spread in pts:
            if spread > 0:
                px, lo, hi = chart.px(x), chart.py(mean - spread), chart.py(mean + spread)
                chart.parts.append(f'<line class="spread" x1="{px:.1f}" y1="{lo:.1f}" x2="{px:.1f}" y2="{hi:.1f}" '
                                   f'stroke="{colour}" stroke-width="1"><title>{html.escape(name)} ± '
                                   f'{spread:.4g}</title></line>')
    return chart.svg()
