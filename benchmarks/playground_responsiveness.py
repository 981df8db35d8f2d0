"""Playground responsiveness benchmark (not a test): does model work in the TorchWorker keep the window smooth?

A 10 ms QTimer in the GUI thread records how late each tick fires while the playground page imports the model
libraries (first use, on the worker), loads each run's model, classifies 50 pasted lines, scores 100 validation
rows twice (classification: the first score, then other rows of the same run) or streams a base and a tuned
generation (causal LM), all on the one worker, with what the app sets up at start-up (GUI-thread garbage
collection, the short GIL switch interval). Each phase stays open ``SETTLE_MS`` after its signal, so deferred
layout and painting count where they were caused. Per phase it prints p50 / p99 / max stall and the verdict
against the dashboard's targets (p99 <= 20 ms, max <= 100 ms).

Where the time of the stalls over 20 ms went, from the GUI thread's own counters (``thread_time`` and Linux
``/proc/thread-self/schedstat``), as shares of their summed lateness:

- ``cpu``: the GUI thread ran Python/Qt code (its own work: slots, layout, garbage collection);
- ``runq``: it was runnable but the OS gave the core to someone else (CPU starvation on a loaded machine);
- ``wait``: it slept although its timer was due: waiting for the GIL held by the worker (or another lock).

Garbage collections are logged with their generation, thread and duration (``gc.callbacks``); the longest
one per phase is printed.

Usage::

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/playground_responsiveness.py RUN_DIR [RUN_DIR ...]
    ... --gc auto              # Python's automatic collection instead of the app's GUI-thread guard (reference)
    ... --compare OTHER_ROOT   # alternate this checkout and OTHER_ROOT (e.g. the main branch) --rounds times
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(os.environ.get("PLAYGROUND_BENCH_ROOT") or Path(__file__).resolve().parents[1])
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")

TICK_MS = 10
STALL_MS = 20.0
P99_TARGET_MS, MAX_TARGET_MS = 20.0, 100.0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank); NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))]


def _schedstat() -> tuple[float, float]:
    """(seconds on CPU, seconds runnable but waiting for a CPU) of the calling thread; zeros when unknown."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as fh:
            on_cpu, runq, _ = fh.read().split()
        return int(on_cpu) / 1e9, int(runq) / 1e9
    except (OSError, ValueError):
        return 0.0, 0.0


class Probe:
    """Per phase: every tick's lateness (ms) and, for stalls over ``STALL_MS``, where the time went."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.phase = "idle"
        self.late: dict[str, list[float]] = {}
        self.split: dict[str, list[float]] = {}  # phase -> [late, cpu, runq, wait] summed over stalls
        self.gcs: dict[str, list[tuple[int, str, float]]] = {}
        self.worst: dict[str, tuple[float, float]] = {}  # phase -> (late ms, at s since start)
        self.t0 = time.perf_counter()
        self._last = (time.perf_counter(), time.thread_time(), *_schedstat())
        self._gc_start = 0.0
        gc.callbacks.append(self._on_gc)
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = (time.perf_counter(), time.thread_time(), *_schedstat())
        wall, cpu, _on, runq = (a - b for a, b in zip(now, self._last, strict=True))
        self._last = now
        late = max(0.0, wall * 1000 - TICK_MS)
        self.late.setdefault(self.phase, []).append(late)
        if late > self.worst.get(self.phase, (0.0, 0.0))[0]:
            self.worst[self.phase] = (late, now[0] - self.t0)
        if late > STALL_MS:
            split = self.split.setdefault(self.phase, [0.0, 0.0, 0.0, 0.0])
            cpu_ms, runq_ms = cpu * 1000, runq * 1000
            wait_ms = max(0.0, late - cpu_ms - runq_ms)
            for i, v in enumerate((late, cpu_ms, runq_ms, wait_ms)):
                split[i] += v

    def _on_gc(self, stage: str, info: dict) -> None:
        if stage == "start":
            self._gc_start = time.perf_counter()
            return
        ms = (time.perf_counter() - self._gc_start) * 1000
        self.gcs.setdefault(self.phase, []).append((info["generation"], threading.current_thread().name, ms))

    def stop(self) -> None:
        self.timer.stop()
        gc.callbacks.remove(self._on_gc)

    def rows(self) -> list[dict]:
        """One summary per phase (plain data, for the table and for --compare)."""
        out = []
        for phase, late in self.late.items():
            split = self.split.get(phase, [0.0] * 4)
            gcs = self.gcs.get(phase, [])
            longest = max(gcs, key=lambda g: g[2], default=None)
            out.append({"phase": phase, "ticks": len(late), "p50": percentile(late, 50),
                        "p99": percentile(late, 99), "max": max(late), "stall_ms": split[0],
                        "cpu": split[1], "runq": split[2], "wait": split[3], "gcs": len(gcs),
                        "gc_max": f"gen{longest[0]} {longest[2]:.0f} ms {longest[1][:10]}" if longest else "-"})
        return out


SETTLE_MS = 300
"""After a phase's signal the phase stays open this long, so the layout and painting that Qt defers to the next
event-loop turns (e.g. of the widgets a result just created) count in the phase that caused them."""


def wait(signal, timeout_ms: int = 600_000, settle_ms: int = SETTLE_MS) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    if settle_ms:
        QTimer.singleShot(settle_ms, loop.quit)
        loop.exec()


def _import_libraries() -> str:
    """What the first model load imports, on the worker (its own phase, so the load phase is the load alone)."""
    import peft  # noqa: F401
    import torch  # noqa: F401
    import transformers  # noqa: F401

    return "imported"


def scenario(runs: list[str], gc_mode: str, lines: int, rows: int) -> list[dict]:
    """Drive the playground through every phase in this process; the per-phase summaries."""
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    if gc_mode == "app":
        try:  # what the app sets up at start-up
            from adalora_studio.gui.gil import keep_window_responsive
        except ImportError:  # an older checkout (--compare): the collector alone
            from adalora_studio.gui.gc_guard import collect_on_gui_thread as keep_window_responsive
        keep_window_responsive()
    from adalora_studio.gui.playground import PlaygroundPage
    from adalora_studio.gui.worker import TorchWorker

    worker = TorchWorker()
    page = PlaygroundPage(worker)
    page.resize(1100, 760)
    page.show()
    probe = Probe()
    wait(probe.timer.timeout, settle_ms=0)
    probe.phase = "import torch/transformers/peft (worker)"
    wait(worker.submit(_import_libraries).succeeded)
    for run in runs:
        name = Path(run).name.rsplit("-", 2)[0][:12]
        probe.phase = f"{name}: load model"
        page.choose(run)
        wait(page.loaded)
        if page.current and page.current["task"] == "causal-lm":
            probe.phase = f"{name}: stream base + tuned generation"
            page.generate.prompt.setPlainText("Explain what an invoice is.")
            page.start_generation("Explain what an invoice is.")
            wait(page.generation_done)
            continue
        probe.phase = f"{name}: classify {lines} pasted lines"
        page.predict([f"I was charged twice for order {i}, please refund" for i in range(lines)])
        wait(page.results_shown)
        probe.phase = f"{name}: score {rows} validation rows"
        page.score_rows(rows)
        wait(page.results_shown)
        probe.phase = f"{name}: score {rows} rows again"  # other rows of the same run
        page.score_rows(rows)
        wait(page.results_shown)
    probe.phase = "idle after"
    for _ in range(50):
        wait(probe.timer.timeout, settle_ms=0)
    probe.stop()
    worker.shutdown(60_000)
    del app
    return probe.rows()


def verdict(row: dict) -> str:
    ok = row["p99"] <= P99_TARGET_MS and row["max"] <= MAX_TARGET_MS
    return "meets" if ok else "MISSES"


def print_table(rows: list[dict], label: str = "") -> None:
    print(f"{label}{'phase':44} {'ticks':>5} {'p50':>5} {'p99':>6} {'max':>6} {'target':>7} "
          f"{'stall ms':>8} {'cpu%':>5} {'runq%':>5} {'wait%':>5} {'gcs':>4}  longest gc")
    for r in rows:
        total = r["stall_ms"] or 1.0
        print(f"{label}{r['phase'][:44]:44} {r['ticks']:5d} {r['p50']:5.1f} {r['p99']:6.1f} {r['max']:6.0f} "
              f"{verdict(r):>7} {r['stall_ms']:8.0f} {100 * r['cpu'] / total:5.0f} {100 * r['runq'] / total:5.0f} "
              f"{100 * r['wait'] / total:5.0f} {r['gcs']:4d}  {r['gc_max']}")


def compare(args: argparse.Namespace) -> int:
    """Alternate this checkout and ``--compare`` ROOT, each in a fresh process, and print both per round."""
    here = Path(__file__).resolve()
    roots = {"this": str(here.parents[1]), "other": str(Path(args.compare).resolve())}
    for n in range(args.rounds):
        for label, root in roots.items():
            cmd = [sys.executable, str(here), *args.runs, "--json", "--gc", args.gc, "--lines", str(args.lines),
                   "--rows", str(args.rows)]
            env = {**os.environ, "PLAYGROUND_BENCH_ROOT": root}
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(out.stderr[-3000:], file=sys.stderr)
                return out.returncode
            load = os.getloadavg()[0]
            print(f"\nround {n + 1}, {label} ({root}), load average {load:.1f}")
            print_table(json.loads(out.stdout.strip().splitlines()[-1]), f"{label[:5]:5} ")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="finished or stopped run folders")
    parser.add_argument("--gc", choices=("app", "auto"), default="app",
                        help="app: the app's GUI-thread garbage collection (default); auto: Python's own")
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="print the summaries as one JSON line")
    parser.add_argument("--compare", metavar="OTHER_ROOT", help="alternate with another checkout of the studio")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.compare:
        return compare(args)
    rows = scenario(args.runs, args.gc, args.lines, args.rows)
    if args.json:
        print(json.dumps(rows))
    else:
        print(f"code: {ROOT}; gc: {args.gc}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
