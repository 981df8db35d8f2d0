"""Engine throughput benchmark (not a test): is the engine as fast as a hand-written peft AdaLoRA loop, what does
AdaLoRA cost over plain LoRA, and how much does the fast allocator path save?

Contenders, all built from the same config and seed, stepping through the same data order:

  engine     the engine (``core.training.Engine``; logging every step, ranks every mask step, its default
             fast allocator path), advanced one optimizer step at a time through its event generator;
  reference  a minimal hand-written peft AdaLoRA loop using peft's own ``update_and_allocate``;
  fast       the same loop with ``core.adalora.install_fast_path`` (batched EMAs and orthogonality term);
  lora       a plain peft LoRA loop with r = 8 (the AdaLoRA run's init_r) on the same matrices.

Fine-grained interleaving: after ``--warmup`` untimed steps each, the contenders take turns in ONE process, a
block of ``--block`` optimizer steps at a time (the order rotates every round), for ``--rounds`` rounds. Each
ratio is taken per round between neighbouring blocks, so slow drift and other processes' bursts hit both
sides of a ratio alike; the script prints the median with its spread (min..max, and the half-range in %).
Wall-clock and thread CPU time are both reported: on a loaded machine CPU time (``--threads 1``) is the
steadier measure of work.

Tasks: ``--task classification`` (bundled MiniLM, demo tickets, batch 16 x 64 tokens, every attention and
feed-forward matrix) or ``--task causal-lm`` (bundled SmolLM2-135M GGUF, demo prompt/response pairs, batch 8 x
64 tokens, the 7 attention and MLP matrix types). Tokens/s count the non-padding tokens of each step's batch
(every contender sees the same batches). ``--memory`` also runs each contender ALONE in a child process and
prints its peak resident set size (CUDA: peak allocation) against the hand-written loop.

Usage::

    .venv/bin/python benchmarks/engine_throughput.py --threads 1
    .venv/bin/python benchmarks/engine_throughput.py --task causal-lm --threads 1 --memory
    .venv/bin/python benchmarks/engine_throughput.py --device cuda --rounds 40 --block 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from benchmarks.throughput_parts import (  # noqa: E402
    CONTENDERS,
    Timing,
    make_config,
    make_stepper,
    peak_memory_mb,
    spread,
)


def interleave(cfg: Any, names: list[str], device: str, warmup: int, rounds: int,
               block: int) -> dict[str, list[Timing]]:
    """Build every contender, warm each up, then alternate blocks of steps; the timings of every block."""
    steppers = {name: make_stepper(name, cfg, device) for name in names}
    for stepper in steppers.values():
        for _ in range(warmup):
            stepper.step()
    timings: dict[str, list[Timing]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            timings[name].append(steppers[name].timed_block(block, device))
    for stepper in steppers.values():
        stepper.close()
    return timings


def per_round_ratio(timings: dict[str, list[Timing]], num: str, den: str, cpu: bool) -> list[float]:
    """``speed(num) / speed(den)`` per round (a ratio > 1: ``num`` is faster)."""
    pick = (lambda t: t.cpu_s) if cpu else (lambda t: t.wall_s)
    return [pick(d) / pick(n) for n, d in zip(timings[num], timings[den], strict=True)]


def report(timings: dict[str, list[Timing]], args: argparse.Namespace) -> None:
    import torch

    machine = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or platform.machine()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nmachine: {machine}, {os.cpu_count()} CPUs, load average {load:.1f}, torch threads "
          f"{torch.get_num_threads()}, torch {torch.__version__}")
    print(f"task {args.task}, {args.device}; {args.warmup} warm-up steps, {args.rounds} rounds x {args.block} steps")
    for name, ts in timings.items():
        tok = statistics.median(t.tokens / t.wall_s for t in ts)
        print(f"  {name:10s} {statistics.median(t.wall_s / t.steps for t in ts) * 1e3:8.1f} ms/step wall "
              f"{statistics.median(t.cpu_s / t.steps for t in ts) * 1e3:8.1f} ms/step CPU  {tok:8.0f} tokens/s")
    pairs = [("engine", "reference", "engine / reference tokens/s (goal >= 0.98)")]
    if "lora" in timings:
        pairs += [("lora", "reference", "AdaLoRA(peft) / LoRA r=8 step time, before the fast path"),
                  ("lora", "fast", "AdaLoRA(fast) / LoRA r=8 step time, after (goal <= 1.05)"),
                  ("lora", "engine", "engine AdaLoRA / LoRA r=8 step time")]
    if "fast" in timings:
        pairs.append(("fast", "reference", "fast path speed-up over peft's path"))
    for num, den, label in pairs:
        if num in timings and den in timings:
            for cpu in (False, True):
                med, lo, hi, half = spread(per_round_ratio(timings, num, den, cpu))
                print(f"  {label:58s} {'CPU ' if cpu else 'wall'} median {med:.3f}  "
                      f"range {lo:.3f}..{hi:.3f} (±{half:.1f}%)")


def memory_table(args: argparse.Namespace, names: list[str]) -> None:
    """Each contender alone in a child process: peak memory against the hand-written loop."""
    peaks = {}
    for name in names:
        cmd = [sys.executable, __file__, "--only", name, "--task", args.task, "--device", args.device,
               "--threads", str(args.threads), "--warmup", str(args.warmup + args.block)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        peaks[name] = json.loads(out.strip().splitlines()[-1])
    print("\npeak memory, each contender alone (CPU: RSS; CUDA: peak allocation):")
    ref = peaks["reference"]
    for name, p in peaks.items():
        line = f"  {name:10s} peak {p['peak_mb']:8.0f} MiB ({p['peak_mb'] / ref['peak_mb']:.3f}x the hand-written loop"
        if args.device != "cuda":  # the process peak is the model loading's; what the steps add is apart
            added, ref_added = p["steps_peak_mb"] - p["before_steps_mb"], ref["steps_peak_mb"] - ref["before_steps_mb"]
            share = p["steps_peak_mb"] / ref["steps_peak_mb"]
            line += (f"); during the steps {p['steps_peak_mb']:8.0f} MiB ({share:.3f}x), "
                     f"added by the steps {added:6.0f} MiB (hand-written loop {ref_added:.0f})")
        else:
            line += ")"
        print(line + "   (goal <= 1.1)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="classification", choices=("classification", "causal-lm"))
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per contender before timing")
    parser.add_argument("--rounds", type=int, default=8, help="interleaved rounds")
    parser.add_argument("--block", type=int, default=2, help="optimizer steps per contender per round")
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help="comma-separated subset")
    parser.add_argument("--memory", action="store_true", help="also measure each contender's peak memory alone")
    parser.add_argument("--memory-only", action="store_true", help="only the --memory measurement")
    parser.add_argument("--only", default="", help=argparse.SUPPRESS)  # child process of --memory
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    names = [n for n in args.contenders.split(",") if n]
    with tempfile.TemporaryDirectory(prefix="engine-throughput-") as tmp:
        os.environ["ADALORA_STUDIO_HOME"] = str(Path(tmp) / "home")
        steps = args.warmup + args.rounds * args.block + 2
        cfg = make_config(args.task, Path(tmp), steps if not args.only else args.warmup + 2, args.device)
        if cfg is None:
            print(f"The bundled model for {args.task} is not installed; nothing to measure.")
            return 2
        if args.only:
            from adalora_studio.core.training.preflight import _RssSampler

            stepper = make_stepper(args.only, cfg, args.device)
            before = _RssSampler.now()
            with _RssSampler() as rss:
                for _ in range(args.warmup):
                    stepper.step()
            print(json.dumps({"peak_mb": peak_memory_mb(args.device), "before_steps_mb": before,
                              "steps_peak_mb": rss.peak}))
            return 0
        t0 = time.perf_counter()
        if not args.memory_only:
            timings = interleave(cfg, names, args.device, args.warmup, args.rounds, args.block)
            report(timings, args)
            print(f"  ({time.perf_counter() - t0:.0f} s in all)")
        if args.memory or args.memory_only:
            memory_table(args, [n for n in names if n != "fast"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
