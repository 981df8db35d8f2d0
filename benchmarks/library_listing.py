"""How long the run library takes to list N run folders: the first scan, and a rescan with nothing changed.

    .venv/bin/python benchmarks/library_listing.py            # 500 runs (the issue's target: under a second)
    .venv/bin/python benchmarks/library_listing.py --runs 2000

Builds N realistic run folders in a temporary directory (run.json as the engine writes it, status.json with
the final metrics, an events.jsonl of ~200 steps, labels.json, a few broken folders), then times
``RunLibrary.entries()`` cold (every folder read) and warm (only signatures checked), and, for comparison,
the older ``list_runs`` summary. Prints medians over rounds and the ratio to the one-second target.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adalora_studio.core.config import RunConfig, demo_config  # noqa: E402
from adalora_studio.core.events import EvalLogged, Finished, StepLogged, event_to_json  # noqa: E402
from adalora_studio.core.runs import RunLibrary, create_run_folder, list_runs  # noqa: E402


def make_runs(root: Path, n: int, steps: int = 200) -> None:
    """``n`` run folders under ``root`` (every 50th broken: run.json missing)."""
    base = demo_config()
    for i in range(n):
        cfg: RunConfig = base.replace(name=f"run-{i:04d}", method="lora" if i % 2 else "adalora",
                                      output_dir=str(root))
        folder = create_run_folder(cfg)
        metrics = {"accuracy": 0.8 + (i % 10) / 100, "macro_f1": 0.7}
        lines = [event_to_json(StepLogged(step=s, epoch=s / 20, task_loss=1.0 / s, orth_loss=0.01, lr=1e-3,
                                          grad_norm=1.0, samples_per_s=100.0, elapsed_s=s * 0.1, eta_s=1.0))
                 for s in range(1, steps + 1)]
        lines += [event_to_json(EvalLogged(step=steps, eval_loss=0.4, metrics=metrics)),
                  event_to_json(Finished(step=steps, run_dir=str(folder.path), adapter_dir="", metrics=metrics))]
        folder.events_jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
        folder.write_labels(["a", "b", "c"])
        if i % 50 == 49:
            folder.run_json.unlink()
        else:
            folder.write_status("finished", step=steps, elapsed_s=steps * 0.1, metrics=metrics)


def timed(fn) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = len(fn())
    return time.perf_counter() - t0, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        make_runs(root, args.runs)
        print(f"built {args.runs} run folders in {time.perf_counter() - t0:.1f} s")
        cold, warm, old = [], [], []
        for _ in range(args.rounds):
            lib = RunLibrary(root)
            seconds, n = timed(lib.entries)
            cold.append(seconds)
            warm.append(timed(lib.entries)[0])
            old.append(timed(lambda: list_runs(root))[0])
        broken = sum(e.status == "broken" for e in RunLibrary(root).entries())
        print(f"listed {n} folders ({broken} broken, each listed with its problem)")
        print(f"RunLibrary first scan : median {statistics.median(cold):.3f} s "
              f"(target < 1 s: {statistics.median(cold):.2f} of the target)")
        print(f"RunLibrary rescan     : median {statistics.median(warm):.3f} s "
              f"({statistics.median(cold) / max(statistics.median(warm), 1e-9):.1f}x faster than the first scan)")
        print(f"list_runs (for scale) : median {statistics.median(old):.3f} s")


if __name__ == "__main__":
    main()
