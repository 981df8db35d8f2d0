"""Render the dashboard's "Inside AdaLoRA" views of a run folder to PNGs (offscreen), to look at them.

Usage::

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/insights_screenshots.py RUN_DIR OUT_DIR [MODULE]

Writes ``explorer.png``, ``pruning_timeline.png`` (+ the view's own PNG/SVG export), ``budget.png``,
``spectra.png`` and ``dashboard_inside.png`` into OUT_DIR. MODULE picks the explorer's matrix (default: the
overview's first).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    from PySide6.QtWidgets import QApplication

    from adalora_studio.gui.dashboard.dashboard import Dashboard

    app = QApplication.instance() or QApplication([])
    run_dir, out = Path(argv[0]), Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    dash = Dashboard()
    dash.resize(1400, 900)
    dash.show()
    dash.load_run(run_dir)
    for _ in range(50):
        app.processEvents()
        if dash.state.terminal is not None:
            break
        dash.follower.poll()
    dash.redraw()
    dash.tabs.setCurrentWidget(dash.insights)
    panel = dash.insights
    if len(argv) > 2:
        panel.explorer.select(argv[2])
    for view, name in ((panel.explorer, "explorer"), (panel.timeline, "pruning_timeline"),
                       (panel.budget, "budget"), (panel.spectra, "spectra")):
        panel.setCurrentWidget(view)
        app.processEvents()
        view.grab().save(str(out / f"{name}.png"))
    panel.timeline.export(out / "timeline_export")
    panel.setCurrentWidget(panel.explorer)
    app.processEvents()
    dash.grab().save(str(out / "dashboard_inside.png"))
    print(f"wrote PNGs to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
