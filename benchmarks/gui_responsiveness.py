"""GUI responsiveness benchmark (not a test): does training in the worker thread keep the window smooth, and is
it as fast as training without a GUI?

Prints:
  1. time from process start to the main window first shown (``python -m adalora_studio`` with
     ``ADALORA_STUDIO_EXIT_AFTER_SHOWN=1``; target <= 1.0 s), median of ``--startup-repeats`` runs;
  2. event-loop latency in the GUI thread while the TorchWorker trains and the dashboard redraws: a 10 ms
     QTimer records how late each tick fires; p50 / p99 / max stall (targets p99 <= 20 ms, max <= 100 ms),
     over the whole run (torch import and model loading included) and over the training steps alone;
  3. training steps/s in the GUI worker vs the headless engine in the same process (target ratio >= 0.97).

Usage::

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_responsiveness.py            # bundled MiniLM
    .venv/bin/python benchmarks/gui_responsiveness.py --model tiny --steps 60               # tiny BERT, fast
    xvfb-run -a .venv/bin/python benchmarks/gui_responsiveness.py                          # a real X server

Steps/s is measured from the engine's own StepLogged timestamps, over consecutive steps with no evaluation or
checkpoint between them, after ``--skip`` warm-up steps.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TICK_MS = 10


# ---------------------------------------------------------------------------------------------- helpers


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def steps_per_second(events: list, skip: int) -> tuple[float, int]:
    """(steps/s, steps counted) from consecutive StepLogged events with no evaluation or checkpoint between them
    (rank snapshots are part of a step's normal cost and stay in)."""
    from adalora_studio.core.events import CheckpointSaved, EvalLogged, StepLogged

    total, counted, previous = 0.0, 0, None
    for event in events:
        if isinstance(event, StepLogged):
            if previous is not None and previous.step >= skip and event.step == previous.step + 1:
                total += event.elapsed_s - previous.elapsed_s
                counted += 1
            previous = event
        elif isinstance(event, (EvalLogged, CheckpointSaved)):
            previous = None  # an evaluation or checkpoint gap: do not count the next interval
    return (counted / total if total > 0 else float("nan")), counted


def bench_config(model: str, steps: int, folder: Path):  # noqa: ANN201 - RunConfig
    """The demo run (bundled MiniLM, support tickets), cut to ``steps`` optimizer steps; or tiny BERT."""
    import dataclasses

    from adalora_studio.core.config import ModelConfig, demo_config, with_section

    cfg = demo_config()
    if model == "tiny":
        from tests.tiny_models import make_tiny_model

        cfg = cfg.replace(model=ModelConfig(source="folder", path=str(make_tiny_model("bert", folder / "tiny"))))
    elif model != "bundled":
        cfg = cfg.replace(model=ModelConfig(source="folder", path=model))
    cfg = with_section(cfg, "training", max_steps=steps, eval_every=10 * steps, checkpoint_every=10 * steps,
                       device="cpu")
    return dataclasses.replace(cfg, output_dir=str(folder / "runs"), name="gui-bench")


# ---------------------------------------------------------------------------------------------- startup


def measure_startup(repeats: int) -> list[float]:
    """Seconds from process start to the main window shown, as the app itself reports it."""
    results = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "ADALORA_STUDIO_EXIT_AFTER_SHOWN": "1", "ADALORA_STUDIO_HOME": home,
                   "ADALORA_STUDIO_NO_FIRST_RUN": "1"}
            out = subprocess.run([sys.executable, "-m", "adalora_studio"], cwd=ROOT, env=env, capture_output=True,
                                 text=True, timeout=120)
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith("window-shown ")), None)
        if line is None:
            raise RuntimeError(f"the app did not report window-shown (exit {out.returncode}):\n{out.stderr[-2000:]}")
        results.append(float(line.split()[1]))
    return results


# ---------------------------------------------------------------------------------------------- runs


def headless_run(cfg, in_thread: bool = False) -> list:  # noqa: ANN001
    """The engine without Qt: in the main thread (as the CLI runs it) or in a plain ``threading.Thread`` (the
    worker's threading without Qt: isolates what the GUI costs from what running off the main thread does)."""
    from adalora_studio.core.training import run

    if not in_thread:
        return list(run(cfg))
    import threading

    out: list = []
    thread = threading.Thread(target=lambda: out.extend(run(cfg)), name="headless-bench")
    thread.start()
    thread.join()
    return out


def gui_run(cfg, with_dashboard: bool = True) -> tuple[list, list[float], list[float], int, float]:  # noqa: ANN001
    """The engine in the TorchWorker while the dashboard shows it; returns (events, all stalls, training
    stalls, dashboard redraws, GUI-thread CPU share). Stalls are how late each 10 ms GUI-thread tick fired, in ms;
    the CPU share is the GUI thread's CPU time over the run's wall time (what the GUI takes from training).
    ``with_dashboard=False`` isolates the worker's own cost (events still cross to the GUI thread)."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from adalora_studio.core.events import RunStarted, StepLogged
    from adalora_studio.gui.dashboard.dashboard import Dashboard
    from adalora_studio.gui.worker import TorchWorker

    app = QApplication.instance() or QApplication([])
    from adalora_studio.gui.gil import keep_window_responsive

    keep_window_responsive()  # as the app: GUI-thread garbage collection, short GIL switch interval
    dashboard = Dashboard()
    dashboard.resize(1400, 900)
    dashboard.show()
    worker = TorchWorker()
    events: list = []
    stalls: list[float] = []
    training_stalls: list[float] = []
    phase = {"training": False}

    def on_event(event: object) -> None:
        events.append(event)
        if isinstance(event, StepLogged) and not phase["training"]:
            phase["training"] = True
        if with_dashboard:
            dashboard.apply_event(event)

    clock = QElapsedTimer()
    last = [0]

    def tick() -> None:
        now = clock.nsecsElapsed()
        late_ms = max(0.0, (now - last[0]) / 1e6 - TICK_MS)
        last[0] = now
        stalls.append(late_ms)
        if phase["training"]:
            training_stalls.append(late_ms)

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    loop = QEventLoop()
    worker.event.connect(on_event)
    worker.run_finished.connect(lambda _t: loop.quit())
    clock.start()
    last[0] = clock.nsecsElapsed()
    timer.start()
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    worker.start_run(cfg)
    loop.exec()
    gui_cpu_share = (time.thread_time() - cpu0) / (time.perf_counter() - wall0)
    timer.stop()
    phase["training"] = False
    redraws = dashboard.redraw_count
    worker.shutdown()
    dashboard.close()
    app.processEvents()
    assert any(isinstance(e, RunStarted) for e in events)
    return events, stalls, training_stalls, redraws, gui_cpu_share


# ---------------------------------------------------------------------------------------------- main


def child(mode: str, model: str, steps: int, skip: int, with_dashboard: bool) -> dict:
    """One measured run in this (fresh) process; ``mode`` is main, thread or gui."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("ADALORA_STUDIO_HOME", str(Path(tmp) / "home"))
        cfg = bench_config(model, steps, Path(tmp))
        t0 = time.perf_counter()
        out: dict = {"mode": mode}
        if mode == "gui":
            events, stalls, training, redraws, gui_cpu = gui_run(cfg, with_dashboard)
            out.update(stalls=stalls, train_stalls=training, redraws=redraws, gui_cpu=gui_cpu)
        else:
            events = headless_run(cfg, in_thread=mode == "thread")
        out["rate"], out["n"] = steps_per_second(events, skip)
        out["seconds"] = time.perf_counter() - t0
        out["end"] = type(events[-1]).__name__
    return out


def spawn(mode: str, args: argparse.Namespace) -> dict:
    """Run :func:`child` in a new interpreter, so each measurement owns its process (one OpenMP pool, as the app)."""
    cmd = [sys.executable, __file__, "--child", mode, "--model", args.model, "--steps", str(args.steps),
           "--skip", str(args.skip)] + (["--no-dashboard"] if args.no_dashboard else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="bundled", help="bundled (MiniLM), tiny (tiny BERT) or a model folder")
    parser.add_argument("--steps", type=int, default=40, help="optimizer steps per run")
    parser.add_argument("--skip", type=int, default=5, help="warm-up steps not counted")
    parser.add_argument("--rounds", type=int, default=2,
                        help="headless/GUI pairs, alternating, each in its own process")
    parser.add_argument("--startup-repeats", type=int, default=3)
    parser.add_argument("--no-startup", action="store_true")
    parser.add_argument("--startup-only", action="store_true", help="only measure the time to the window shown")
    parser.add_argument("--no-dashboard", action="store_true", help="GUI run without feeding the dashboard")
    parser.add_argument("--child", choices=("main", "thread", "gui"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.model, args.steps, args.skip, not args.no_dashboard)))
        return 0

    print(f"platform: QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM', '')}, {os.cpu_count()} CPUs")
    if not args.no_startup:
        shown = measure_startup(args.startup_repeats)
        print(f"window shown after: median {statistics.median(shown):.3f} s (runs: "
              f"{', '.join(f'{s:.3f}' for s in shown)}; target <= 1.0 s)")
    if args.startup_only:
        return 0

    print(f"model: {args.model}; {args.steps} steps; every run in a fresh process, order alternating")
    rates: dict[str, list[float]] = {"main": [], "gui": []}
    all_stalls: list[float] = []
    train_stalls: list[float] = []
    for round_ in range(args.rounds):
        order = ("main", "gui") if round_ % 2 == 0 else ("gui", "main")
        for mode in order:
            r = spawn(mode, args)
            rates[mode].append(r["rate"])
            if mode == "gui":
                all_stalls += r["stalls"]
                train_stalls += r["train_stalls"]
                print(f"round {round_ + 1} GUI worker: {r['rate']:.3f} steps/s over {r['n']} steps "
                      f"({r['seconds']:.1f} s, {r['redraws']} dashboard redraws, GUI thread used "
                      f"{100 * r['gui_cpu']:.1f}% of a core, ends {r['end']})")
            else:
                print(f"round {round_ + 1} headless (main thread, as the CLI): {r['rate']:.3f} steps/s over "
                      f"{r['n']} steps ({r['seconds']:.1f} s, ends {r['end']})")
    print(f"load average after: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    for label, values in (("whole run (incl. torch import, model load)", all_stalls),
                          ("training steps only", train_stalls)):
        print(f"event-loop stall, {label}: p50 {percentile(values, 50):.1f} ms, p99 {percentile(values, 99):.1f} ms,"
              f" max {max(values, default=float('nan')):.1f} ms over {len(values)} ticks of {TICK_MS} ms "
              "(targets p99 <= 20, max <= 100)")
    gui, base = statistics.median(rates["gui"]), statistics.median(rates["main"])
    print(f"steps/s GUI worker / headless engine (medians): {gui:.3f} / {base:.3f} = {gui / base:.3f} (target >= 0.97)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
