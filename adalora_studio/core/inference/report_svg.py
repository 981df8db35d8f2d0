"""Qt-free SVG figures of a report: the confusion-matrix heatmap and the reliability diagram."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

CELL = 44
LEFT, TOP = 150, 110


def _shade(value: float) -> str:
    """White (0) to dark blue (1)."""
    v = max(0.0, min(1.0, value))
    r, g, b = (int(255 - v * (255 - c)) for c in (31, 83, 180))
    return f"#{r:02x}{g:02x}{b:02x}"


def _clip(name: str, n: int = 18) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


def confusion_svg(labels: Sequence[str], counts: Sequence[Sequence[int]], normalized: Sequence[Sequence[float]],
                  title: str = "Confusion matrix (row-normalised; counts in cells)") -> str:
    """A heatmap: rows are true labels, columns predicted; colour is the row share, text the count."""
    k = len(labels)
    width, height = max(LEFT + k * CELL + 60, 460), TOP + k * CELL + 24
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
             f'font-size="12">', f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="14">{html.escape(title)}</text>',
             f'<text x="{LEFT + k * CELL / 2}" y="44" text-anchor="middle">predicted</text>',
             f'<text x="14" y="{TOP + k * CELL / 2}" text-anchor="middle" '
             f'transform="rotate(-90 14 {TOP + k * CELL / 2})">true</text>']
    for j, name in enumerate(labels):
        x = LEFT + j * CELL + CELL / 2
        parts.append(f'<text x="{x}" y="{TOP - 8}" text-anchor="start" transform="rotate(-35 {x} {TOP - 8})">'
                     f'{html.escape(_clip(name, 12))}</text>')
    for i, name in enumerate(labels):
        y = TOP + i * CELL
        parts.append(f'<text x="{LEFT - 6}" y="{y + CELL / 2 + 4}" text-anchor="end">{html.escape(_clip(name))}</text>')
        for j in range(k):
            share = normalized[i][j]
            parts.append(f'<rect x="{LEFT + j * CELL}" y="{y}" width="{CELL}" height="{CELL}" fill="{_shade(share)}" '
                         'stroke="#ccc"/>')
            colour = "white" if share > 0.55 else "#222"
            parts.append(f'<text x="{LEFT + j * CELL + CELL / 2}" y="{y + CELL / 2 + 4}" text-anchor="middle" '
                         f'fill="{colour}">{counts[i][j]}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def reliability_svg(bins: Sequence[dict[str, Any]], ece: float) -> str:
    """Accuracy per confidence bin against the diagonal of perfect calibration, with the ECE in the title."""
    w, h, left, right, top, bottom = 420, 340, 60, 20, 40, 50
    pw, ph = w - left - right, h - top - bottom

    def px(v: float) -> float:
        return left + v * pw

    def py(v: float) -> float:
        return top + (1 - v) * ph

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
             'font-size="12">', f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<text x="{w / 2}" y="22" text-anchor="middle" font-size="14">Reliability (ECE {ece:.3f})</text>',
             f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>',
             f'<text x="{left + pw / 2}" y="{h - 12}" text-anchor="middle">confidence</text>',
             f'<text x="16" y="{top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 {top + ph / 2})">'
             'accuracy</text>']
    for t in (0.0, 0.5, 1.0):
        parts.append(f'<text x="{px(t)}" y="{top + ph + 16}" text-anchor="middle">{t:g}</text>')
        parts.append(f'<text x="{left - 6}" y="{py(t) + 4}" text-anchor="end">{t:g}</text>')
    for b in bins:
        if not b["count"]:
            continue
        x0, x1 = px(b["lo"]), px(b["hi"])
        parts.append(f'<rect x="{x0 + 1:.1f}" y="{py(b["accuracy"]):.1f}" width="{x1 - x0 - 2:.1f}" '
                     f'height="{py(0) - py(b["accuracy"]):.1f}" fill="#1f77b4" fill-opacity="0.75"/>')
        tall = py(0) - py(b["accuracy"]) >= 14  # the row count inside the bar, or just above a short one
        y = py(0) - 4 if tall else py(b["accuracy"]) - 3
        parts.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{y:.1f}" text-anchor="middle" font-size="9" '
                     f'fill="{"white" if tall else "#222"}">{b["count"]}</text>')
    parts.append(f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(1)}" y2="{py(1)}" stroke="#555" stroke-dasharray="4 3"/>')
    parts.append("</svg>")
    return "\n".join(parts)
