"""Playground responsiveness benchmark (not a test): does model work in the TorchWorker keep the window smooth?

A 10 ms QTimer in the GUI thread records how late each tick fires while the playground page loads a run's model,
classifies lines, scores validation rows and (for a causal-LM run) streams a generation, all on the one worker.
Prints p50 / p99 / max stall per phase (the dashboard's targets: p99 <= 20 ms, max <= 100 ms).

Usage::

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/playground_responsiveness.py RUN_DIR [RUN_DIR ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")


class Ticker:
    """Records how late a 10 ms timer fires (ms), per named phase."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.phase = "idle"
        self.late: dict[str, list[float]] = {}
        self.last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.late.setdefault(self.phase, []).append(max(0.0, (now - self.last) * 1000 - 10))
        self.last = now


def wait(signal, timeout_ms: int = 600_000) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="finished or stopped run folders")
    parser.add_argument("--no-preload", action="store_true", help="skip the app's library preload")
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from adalora_studio.gui.playground import PlaygroundPage
    from adalora_studio.gui.worker import TorchWorker

    worker = TorchWorker()
    page = PlaygroundPage(worker)
    page.resize(1100, 760)
    page.show()
    ticker = Ticker()
    if not args.no_preload:  # the main window imports torch & co. in the worker once it is shown
        ticker.phase = "preload libraries (as the app does after first show)"
        wait(worker.preload().succeeded)
    for run in args.runs:
        name = Path(run).name
        ticker.phase = f"{name}: load"
        page.choose(run)
        wait(page.loaded)
        if page.current and page.current["task"] == "causal-lm":
            ticker.phase = f"{name}: generate 64+64 tokens (streamed)"
            page.generate.prompt.setPlainText("Explain what an invoice is.")
            page.start_generation("Explain what an invoice is.")
            wait(page.generation_done)
            continue
        ticker.phase = f"{name}: predict 50 lines"
        page.predict([f"I was charged twice for order {i}, please refund" for i in range(50)])
        wait(page.results_shown)
        ticker.phase = f"{name}: score 100 validation rows"
        page.score_rows(100)
        wait(page.results_shown)
    ticker.timer.stop()
    print(f"{'phase':55} {'ticks':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}")
    for phase, late in ticker.late.items():
        q = statistics.quantiles(late, n=100) if len(late) > 1 else late * 99
        print(f"{phase:55} {len(late):6d} {q[49]:7.1f} {q[98]:7.1f} {max(late):7.1f}")
    worker.shutdown(60_000)
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
