"""Qt-free SVG plots of a run, written by headless runs (the CLI demo) next to the adapter.

Three figures from ``events.jsonl``: the training loss (raw and smoothed) with eval loss, the budget b(t) with the
total rank actually held, and the final rank heatmap by layer (x) × matrix type (y), the view of the AdaLoRA paper's
Figure 3. Plain SVG text, so any browser or image viewer opens them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path

from ..atomic import atomic_write_text
from ..events import EvalLogged, Event, RanksUpdated, StepLogged, read_events

WIDTH, HEIGHT = 720, 360
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 70, 150, 40, 50
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def ema(values: Sequence[float], alpha: float = 0.1) -> list[float]:
    """Exponential moving average, the smoothing the dashboard shows too."""
    out: list[float] = []
    acc = None
    for v in values:
        acc = v if acc is None else alpha * v + (1 - alpha) * acc
        out.append(acc)
    return out


def nice_ticks(lo: float, hi: float, count: int = 5, min_step: float = 0.0) -> tuple[list[float], int]:
    """Round tick values (1, 2 or 5 × 10^k apart) inside [lo, hi], about ``count`` of them, and the decimals that
    tell them apart (so no two labels read the same)."""
    raw = max((hi - lo) / max(count, 1), min_step, 1e-12)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))
    first = math.ceil(lo / step - 1e-9) * step
    ticks = [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]
    return ticks, max(0, -math.floor(math.log10(step) + 1e-9))


class _Chart:
    """A minimal line chart: linear axes, ticks, a legend."""

    def __init__(self, title: str, xlabel: str, ylabel: str, xs: Sequence[Sequence[float]],
                 ys: Sequence[Sequence[float]]) -> None:
        finite = [v for series in ys for v in series if math.isfinite(v)]
        allx = [v for series in xs for v in series]
        self.x0, self.x1 = (min(allx), max(allx)) if allx else (0.0, 1.0)
        self.y0, self.y1 = (min(finite), max(finite)) if finite else (0.0, 1.0)
        if self.x1 == self.x0:
            self.x1 = self.x0 + 1
        if self.y1 == self.y0:
            self.y1 = self.y0 + 1
        pad = 0.05 * (self.y1 - self.y0)
        self.y0 -= pad
        self.y1 += pad
        self.parts: list[str] = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'font-family="sans-serif" font-size="12">',
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
            f'<text x="{WIDTH / 2 - MARGIN_R / 2}" y="22" text-anchor="middle" font-size="15">'
            f'{html.escape(title)}</text>',
            f'<text x="{MARGIN_L + (WIDTH - MARGIN_L - MARGIN_R) / 2}" y="{HEIGHT - 10}" '
            f'text-anchor="middle">{html.escape(xlabel)}</text>',
            f'<text x="16" y="{MARGIN_T + (HEIGHT - MARGIN_T - MARGIN_B) / 2}" text-anchor="middle" '
            f'transform="rotate(-90 16 {MARGIN_T + (HEIGHT - MARGIN_T - MARGIN_B) / 2})">{html.escape(ylabel)}</text>',
        ]
        self._axes()
        self.legend_y = MARGIN_T + 10

    def px(self, x: float) -> float:
        return MARGIN_L + (x - self.x0) / (self.x1 - self.x0) * (WIDTH - MARGIN_L - MARGIN_R)

    def py(self, y: float) -> float:
        return HEIGHT - MARGIN_B - (y - self.y0) / (self.y1 - self.y0) * (HEIGHT - MARGIN_T - MARGIN_B)

    def _axes(self) -> None:
        left, right, top, bottom = MARGIN_L, WIDTH - MARGIN_R, MARGIN_T, HEIGHT - MARGIN_B
        self.parts.append(f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
                          f'fill="none" stroke="#444"/>')
        xticks, _ = nice_ticks(self.x0, self.x1, min_step=1.0)  # optimizer steps are whole numbers
        for fx in xticks:
            x = self.px(fx)
            self.parts.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" stroke="#444"/>')
            self.parts.append(f'<text x="{x:.1f}" y="{bottom + 17}" text-anchor="middle">{fx:.0f}</text>')
        yticks, decimals = nice_ticks(self.y0, self.y1)
        for fy in yticks:
            y = self.py(fy)
            self.parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#eee"/>')
            self.parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{fy:.{decimals}f}</text>')

    def line(self, xs: Sequence[float], ys: Sequence[float], colour: str, label: str, width: float = 1.5,
             dashed: bool = False, markers: bool = False) -> None:
        pts = [(self.px(x), self.py(y)) for x, y in zip(xs, ys, strict=False) if math.isfinite(y)]
        if not pts:
            return
        dash = ' stroke-dasharray="5,4"' if dashed else ""
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        self.parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="{width}"{dash}/>')
        if markers:
            for x, y in pts:
                self.parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
        lx = WIDTH - MARGIN_R + 12
        self.parts.append(f'<line x1="{lx}" y1="{self.legend_y}" x2="{lx + 20}" y2="{self.legend_y}" '
                          f'stroke="{colour}" stroke-width="2"{dash}/>')
        self.parts.append(f'<text x="{lx + 26}" y="{self.legend_y + 4}">{html.escape(label)}</text>')
        self.legend_y += 18

    def svg(self) -> str:
        return "\n".join(self.parts + ["</svg>"]) + "\n"


def loss_svg(events: Sequence[Event]) -> str | None:
    """Training loss (raw and smoothed) and eval loss over optimizer steps."""
    steps = [e for e in events if isinstance(e, StepLogged)]
    if not steps:
        return None
    evals = [e for e in events if isinstance(e, EvalLogged)]
    xs = [float(e.step) for e in steps]
    raw = [e.task_loss for e in steps]
    ex = [float(e.step) for e in evals]
    ey = [e.eval_loss for e in evals]
    chart = _Chart("Loss", "optimizer step", "loss", [xs, ex], [raw, ey])
    chart.line(xs, raw, "#9ecae1", "task loss", width=1.0)
    chart.line(xs, ema(raw), COLOURS[0], "smoothed", width=2.0)
    chart.line(ex, ey, COLOURS[1], "eval loss", width=2.0, markers=True)
    return chart.svg()


def budget_svg(events: Sequence[Event]) -> str | None:
    """The budget b(t) and the total rank held, from every rank snapshot."""
    snaps = [e for e in events if isinstance(e, RanksUpdated)]
    if not snaps:
        return None
    xs = [float(e.step) for e in snaps]
    budget = [float(e.budget) for e in snaps]
    held = [float(e.total_rank) for e in snaps]
    chart = _Chart("AdaLoRA budget", "optimizer step", "triplets", [xs], [budget, held])
    chart.line(xs, held, COLOURS[3], "rank held", width=2.0, markers=True)
    chart.line(xs, budget, COLOURS[2], "budget b(t)", width=2.0, dashed=True)
    return chart.svg()


def heatmap_svg(snapshot: RanksUpdated) -> str | None:
    """Rank by layer (x) × matrix type (y) for one snapshot."""
    cells = [(m.layer, m.matrix_type, m.rank, m.init_rank) for m in snapshot.matrices if m.layer is not None]
    if not cells:
        return None
    layers = sorted({c[0] for c in cells})
    types = list(dict.fromkeys(c[1] for c in cells))
    init = max(c[3] for c in cells) or 1
    cw, ch = 48, 30
    left, top = 90, 50
    title = f"Final rank by layer and matrix (step {snapshot.step}, init_r {init})"
    w = max(left + cw * len(layers) + 30, int(len(title) * 8.5) + 24)  # room for the title with few layers
    h = top + ch * len(types) + 50
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
             'font-size="12">',
             f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<text x="{w / 2}" y="22" text-anchor="middle" font-size="15">{html.escape(title)}</text>']
    lookup = {(c[0], c[1]): c[2] for c in cells}
    for yi, mtype in enumerate(types):
        parts.append(f'<text x="{left - 8}" y="{top + yi * ch + ch / 2 + 4}" text-anchor="end">'
                     f'{html.escape(mtype)}</text>')
        for xi, layer in enumerate(layers):
            rank = lookup.get((layer, mtype))
            x, y = left + xi * cw, top + yi * ch
            if rank is None:
                parts.append(f'<rect x="{x}" y="{y}" width="{cw}" height="{ch}" fill="#f4f4f4" stroke="white"/>')
                continue
            shade = int(255 - 200 * rank / init)
            colour = f"rgb({shade},{shade},255)"
            text_colour = "white" if rank / init > 0.6 else "black"
            parts.append(f'<rect x="{x}" y="{y}" width="{cw}" height="{ch}" fill="{colour}" stroke="white"/>')
            parts.append(f'<text x="{x + cw / 2}" y="{y + ch / 2 + 4}" text-anchor="middle" '
                         f'fill="{text_colour}">{rank}</text>')
    for xi, layer in enumerate(layers):
        parts.append(f'<text x="{left + xi * cw + cw / 2}" y="{top + len(types) * ch + 18}" '
                     f'text-anchor="middle">{layer}</text>')
    parts.append(f'<text x="{left + cw * len(layers) / 2}" y="{top + len(types) * ch + 38}" '
                 f'text-anchor="middle">layer</text>')
    return "\n".join(parts + ["</svg>"]) + "\n"


def write_run_plots(run_dir: Path) -> list[Path]:
    """Write ``plots/loss.svg``, ``plots/budget.svg`` and ``plots/rank_heatmap.svg`` for a run; returns the paths."""
    log = run_dir / "events.jsonl"
    if not log.exists():
        return []
    with log.open(encoding="utf-8") as fh:
        events = list(read_events(fh))
    snaps = [e for e in events if isinstance(e, RanksUpdated)]
    figures = {
        "loss.svg": loss_svg(events),
        "budget.svg": budget_svg(events),
        "rank_heatmap.svg": heatmap_svg(snaps[-1]) if snaps else None,
    }
    written = []
    for name, svg in figures.items():
        if svg is None:
            continue
        path = run_dir / "plots" / name
        atomic_write_text(path, svg)
        written.append(path)
    return written
