"""Playground predictions benchmark (not a test): the longest event-loop stall after the classification view shows
N pasted lines' predictions, one run or two side by side.

For 50, 300 and 500 synthetic predictions (5 classes, a truncation note on every 17th line): show a ClassifyView at
1100x760, let it settle, call ``show_predictions``, then record how late a 10 ms QTimer fires over the next 500 ms
(the first gap spans the call itself and the layout and painting Qt defers to the next turns). Prints, per case,
the call's own time and the longest stall, median and maximum over ``rounds`` (a fresh view each time).

Usage::

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/prediction_list_stall.py [ROUNDS]
    BENCH_ROOT=OTHER_CHECKOUT QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/prediction_list_stall.py
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("BENCH_ROOT") or Path(__file__).resolve().parents[1])
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

LABELS = ["billing", "shipping", "account", "technical", "feedback"]


def preds(n: int, seed: int) -> list[dict]:
    """``n`` predictions shaped like the playground's predict job returns them."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        w = [rng.random() for _ in LABELS]
        s = sum(w)
        probs = {lab: x / s for lab, x in zip(LABELS, w, strict=True)}
        top = max(probs, key=probs.get)
        out.append({"text": f"I was charged twice for order {i}, please refund it to my card", "label": top,
                    "probabilities": probs, "note": "truncated to 128 tokens" if i % 17 == 0 else None})
    return out


def settle(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def measure(view, columns) -> tuple[float, float]:
    clock = QElapsedTimer()
    gaps: list[float] = []
    last = [0.0]
    timer = QTimer()
    timer.setInterval(10)

    def tick() -> None:
        now = clock.nsecsElapsed() / 1e6
        gaps.append(now - last[0])
        last[0] = now

    timer.timeout.connect(tick)
    clock.start()
    timer.start()
    settle(50)
    t0 = clock.nsecsElapsed() / 1e6
    view.show_predictions(columns)
    call_ms = clock.nsecsElapsed() / 1e6 - t0
    n_before = len(gaps)
    settle(500)
    timer.stop()
    after = gaps[n_before:]
    # the first gap after the call spans the call itself plus the deferred layout/paint
    stall = max(after) - 10.0 if after else float("nan")
    return call_ms, stall


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    app = QApplication.instance() or QApplication([])
    from adalora_studio.gui.playground.classify_view import ClassifyView

    cases = [(50, 1), (50, 2), (300, 1), (300, 2), (500, 2)]
    results: dict[tuple[int, int], list[tuple[float, float]]] = {c: [] for c in cases}
    for r in range(rounds):
        for n, runs in cases:
            view = ClassifyView()
            view.resize(1100, 760)
            view.show()
            settle(200)
            columns = [(f"{'AB'[k]} · run-{'ab'[k]}", preds(n, 10 * r + k)) for k in range(runs)]
            results[(n, runs)].append(measure(view, columns))
            view.close()
            view.deleteLater()
            settle(100)
    print(f"code: {ROOT}; load average {os.getloadavg()[0]:.1f}")
    print(f"{'lines':>5} {'runs':>4} {'call ms (med)':>14} {'stall ms (med)':>15} {'stall ms (max)':>15}")
    for (n, runs), vals in results.items():
        calls = [v[0] for v in vals]
        stalls = [v[1] for v in vals]
        print(f"{n:5d} {runs:4d} {statistics.median(calls):14.1f} {statistics.median(stalls):15.1f} "
              f"{max(stalls):15.1f}")
    del app


if __name__ == "__main__":
    t = time.time()
    main()
    print(f"({time.time() - t:.1f} s)")
