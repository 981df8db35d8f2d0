"""Render the home page, every wizard page and the dashboard in the middle of a real run to PNG files.

    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py [--out .screenshots] [--steps 40]

Runs offscreen by default (or under Xvfb when DISPLAY is set and QT_QPA_PLATFORM is not). Uses a temporary
ADALORA_STUDIO_HOME so your settings and runs are untouched. The dashboard shot comes from a real short
training run of the bundled model on the demo data (it is stopped after ``--steps`` optimizer steps).
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
    parser.add_argument("--steps", type=int, default=40, help="optimizer steps before the dashboard shot")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=860)
    parser.add_argument("--no-run", action="store_true", help="skip the training run (no dashboard shot)")
    parser.add_argument("--prefix", default="", help="prefix for the file names (e.g. small- for a second size)")
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

    from adalora_studio.core.config import demo_config, with_section
    from adalora_studio.core.events import StepLogged
    from adalora_studio.gui.app import _application
    from adalora_studio.gui.main_window import MainWindow

    app = _application()
    from adalora_studio.gui.theme import apply_theme

    apply_theme(app)
    window = MainWindow()
    window.resize(args.width, args.height)
    window.show()

    def spin_until(predicate, timeout_s: float) -> bool:
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
        print(f"wrote {path}")

    shot("00-home")
    window.new_fine_tune()
    wizard = window.wizard
    wizard.set_config(demo_config(), page=0)
    names = ["01-task-model", "02-dataset", "03-budget", "04-training", "05-review"]
    for index, name in enumerate(names):
        wizard.go_to(index)
        if not spin_until(lambda: wizard.problem() is None, 180):
            print(f"{name}: page still blocked: {wizard.problem()}", file=sys.stderr)
        shot(name)
    budget_page = wizard.budget_page
    wizard.go_to(2)
    budget_page.target_spin.setValue(budget_page.init_spin.value())
    spin_until(lambda: wizard.problem() is not None, 10)
    shot("03b-budget-invalid")
    budget_page.target_spin.setValue(4)
    spin_until(lambda: wizard.problem() is None, 10)

    if args.no_run:
        window.worker.shutdown(10000)
        return 0
    steps = {"n": 0}
    window.worker.event.connect(lambda e: steps.update(n=e.step) if isinstance(e, StepLogged) else None)
    cfg = with_section(wizard.config, "training", max_steps=max(args.steps + 20, 60), eval_every=20)
    window.start_run(cfg)
    if not spin_until(lambda: steps["n"] >= args.steps or not window.running, 900):
        print("the run did not reach the wanted step in time", file=sys.stderr)
    spin_until(lambda: False, 0.5)
    shot("06-dashboard-mid-run")
    window.stop_run()
    spin_until(lambda: not window.running, 300)
    shot("07-dashboard-stopped")
    window.show_home()
    shot("08-home-with-a-run")
    window.worker.shutdown(10000)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
