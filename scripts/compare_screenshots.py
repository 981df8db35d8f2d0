"""Render the A/B views to PNG from a real short budget sweep of the bundled model on the demo data.

    QT_QPA_PLATFORM=offscreen python scripts/compare_screenshots.py [--out .screenshots] [--steps 60] [--budgets 1,4]

Writes ``sweep-mid-queue.png`` (the A/B queue dock's sweep plot while the last arm trains), ``compare-view.png``
(the compare view the window opens when the queue is done: curves, sweep, verdict, the table with peak memory)
and ``finish-panel.png`` (an AdaLoRA arm replayed in the dashboard, with "Compare with LoRA…"). Uses a temporary
ADALORA_STUDIO_HOME, so your settings and runs are untouched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / ".screenshots"), help="folder for the PNG files")
    parser.add_argument("--prefix", default="", help="prefix for the file names")
    parser.add_argument("--steps", type=int, default=60, help="optimizer steps per arm")
    parser.add_argument("--budgets", default="1,4", help="the swept target_r values")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=860)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("ADALORA_STUDIO_HOME", tempfile.mkdtemp(prefix="studio-shots-"))
    os.environ.setdefault("ADALORA_STUDIO_NO_FIRST_RUN", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from adalora_studio.app.compare_cli import parse_budgets
    from adalora_studio.core.config import demo_config, with_section
    from adalora_studio.core.events import RunStarted, StepLogged
    from adalora_studio.gui.app import _application
    from adalora_studio.gui.main_window import MainWindow
    from adalora_studio.gui.theme import apply_theme

    app = _application()
    apply_theme(app)
    window = MainWindow()
    window.resize(args.width, args.height)
    window.show()

    def spin_until(predicate, timeout_s: float) -> bool:  # noqa: ANN001
        loop = QEventLoop()
        poll = QTimer(interval=50)
        poll.timeout.connect(lambda: loop.quit() if predicate() else None)
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        poll.start()
        if not predicate():
            loop.exec()
        poll.stop()
        return predicate()

    def shot(name: str) -> None:
        QApplication.processEvents()
        spin_until(lambda: False, 0.3)  # let layouts and plots settle
        path = out / f"{args.prefix}{name}.png"
        window.grab().save(str(path))
        print(f"wrote {path}", flush=True)

    budgets = parse_budgets(args.budgets)
    cfg = with_section(demo_config().replace(name="sweep"), "training", max_steps=args.steps,
                       eval_every=max(args.steps // 3, 1))
    runner, panel = window.comparisons.runner, window.comparisons.panel
    step = {"n": 0}
    window.worker.event.connect(lambda e: step.update(n=e.step) if isinstance(e, StepLogged)
                                else step.update(n=0) if isinstance(e, RunStarted) else None)
    window.worker.run_finished.connect(lambda _t: step.update(n=0))  # count the next arm's steps afresh
    outcome: list = []
    runner.done.connect(outcome.append)
    if not window.comparisons.start(cfg, seeds=1, budgets=budgets):
        print("could not start the sweep", file=sys.stderr)
        return 1
    last = 2 * len(budgets) - 1  # arms finished when the last one is training
    if not spin_until(lambda: len(panel.last_run_dirs) >= last and step["n"] >= args.steps // 2, 3600):
        print("the sweep did not reach its last arm in time", file=sys.stderr)
    shot("sweep-mid-queue")
    if not spin_until(lambda: bool(outcome), 3600):
        print("the sweep did not finish in time", file=sys.stderr)
        return 1
    shot("compare-view")
    window.open_run(outcome[0].run_dirs[0])  # the first AdaLoRA arm, replayed
    spin_until(lambda: window.dashboard.finish_panel.isVisible(), 30)
    shot("finish-panel")
    window.worker.shutdown(10000)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
