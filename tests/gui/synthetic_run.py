"""A synthetic, engine-shaped event stream for dashboard tests (the dashboard's contract is events).

The stream follows the engine's order and peft's schedule: RunStarted, a StepLogged per optimizer step, a
RanksUpdated snapshot at each mask step (every ``delta_t`` steps during budgeting, ranks summing to the
budget b(t)), EvalLogged every ``eval_every`` steps, a checkpoint, a warning, and a terminal event.
"""

from __future__ import annotations

import math
import random

from adalora_studio.core.adalora import scheduled_budget
from adalora_studio.core.events import (
    CheckpointSaved,
    EvalLogged,
    Event,
    Finished,
    LogMessage,
    MatrixRank,
    RanksUpdated,
    RunStarted,
    StepLogged,
    Stopped,
)

TYPES = ("query", "key", "value", "attn_out", "ffn_in", "ffn_out")
MODULES = {
    "query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
    "attn_out": "attention.output.dense", "ffn_in": "intermediate.dense", "ffn_out": "output.dense",
}


def synthetic_events(total_steps: int = 60, n_layers: int = 3, init_r: int = 12, target_r: int = 8,
                     tinit: int = 6, tfinal: int = 12, delta_t: int = 5, eval_every: int = 20,
                     stop_at: int | None = None, run_dir: str = "/tmp/runs/synthetic", seed: int = 0,
                     skipped_at: tuple[int, ...] = (), cuda: bool = False) -> list[Event]:
    """Events of a whole run (``stop_at``: end with Stopped at that step instead of Finished).

    ``skipped_at``: optimizer steps the fp16 gradient scaler skipped (a warning each, and the count on every
    later StepLogged, as the engine logs them); ``cuda``: a CUDA fp16 run whose steps carry allocated and peak
    CUDA memory."""
    rng = random.Random(seed)
    names = [(layer, t) for layer in range(n_layers) for t in TYPES]
    n = len(names)
    weights = {key: rng.uniform(0.2, 2.0) * (1.6 if key[1] in ("value", "ffn_in") else 1.0) for key in names}
    t0 = 1_700_000_000.0
    events: list[Event] = [RunStarted(
        run_dir=run_dir, config={"name": "synthetic"}, total_steps=total_steps, steps_per_epoch=total_steps // 2,
        device="cuda" if cuda else "cpu", precision="fp16" if cuda else "fp32", model_params=22_700_000,
        trainable_init=init_r * n * 768, trainable_target=target_r * n * 768, n_matrices=n, init_r=init_r,
        target_r=target_r, tinit_steps=tinit,
        tfinal_steps=tfinal, delta_t=delta_t, n_train=480, n_eval=60, label_names=("billing", "bug", "other"),
        time=t0)]
    ranks = {key: init_r for key in names}
    events.append(_snapshot(0, init_r * n, "warm-up", ranks, names, init_r, rng, t0))
    end = stop_at if stop_at is not None else total_steps
    skipped = 0
    for step in range(1, end + 1):
        t = t0 + step * 0.1
        if step in skipped_at:
            skipped += 1
            events.append(LogMessage(level="warning", message=f"Optimizer step {step} skipped: inf/NaN gradients "
                                     f"under fp16 ({skipped} skipped so far).", time=t))
        memory = ({"cuda_memory_mb": 900.0 + 40 * math.sin(step / 3), "cuda_peak_mb": 1400.0 + min(step, 20) * 5.0}
                  if cuda else {})
        loss = 1.1 * math.exp(-step / (total_steps / 3)) + 0.15 + 0.08 * rng.random()
        lr = 5e-4 * min(1.0, step / 4) * (1 - step / (total_steps + 1))
        events.append(StepLogged(step=step, epoch=step / (total_steps / 2), task_loss=loss, orth_loss=0.01, lr=lr,
                                 grad_norm=0.5, samples_per_s=160.0, elapsed_s=step * 0.1,
                                 eta_s=(total_steps - step) * 0.1, skipped_steps=skipped, time=t, **memory))
        index = step - 1
        budget = scheduled_budget(index, init_r * n, target_r * n, tinit, tfinal, total_steps)[0]
        masks = index > tinit and (index > total_steps - tfinal or index % delta_t == 0)
        if masks and sum(ranks.values()) != budget:
            ranks = _allocate(budget, names, weights, init_r)
            phase = "final" if index > total_steps - tfinal else "budgeting"
            events.append(_snapshot(step, budget, phase, ranks, names, init_r, rng, t))
        if step % eval_every == 0:
            events.append(EvalLogged(step=step, eval_loss=loss + 0.05, metrics={"accuracy": 0.5 + 0.4 * step /
                                     total_steps, "macro_f1": 0.45 + 0.4 * step / total_steps}, time=t))
        if step == total_steps // 2:
            events.append(CheckpointSaved(step=step, path=f"{run_dir}/checkpoints/step-{step}", time=t))
            events.append(LogMessage(level="warning", message="3 rows had an empty text column and were skipped",
                                     time=t))
    if stop_at is not None:
        events.append(Stopped(step=stop_at, checkpoint=f"{run_dir}/checkpoints/step-{stop_at}", time=t0 + end))
    else:
        events.append(Finished(step=total_steps, run_dir=run_dir, adapter_dir=f"{run_dir}/adapter",
                               metrics={"accuracy": 0.9}, time=t0 + end))
    return events


def _allocate(budget: int, names: list, weights: dict, init_r: int) -> dict:
    total_w = sum(weights.values())
    ranks = {key: min(init_r, int(budget * weights[key] / total_w)) for key in names}
    order = sorted(names, key=lambda key: -weights[key])
    i = 0
    while sum(ranks.values()) < budget:
        key = order[i % len(order)]
        if ranks[key] < init_r:
            ranks[key] += 1
        i += 1
    return ranks


def _snapshot(step: int, budget: int, phase: str, ranks: dict, names: list, init_r: int, rng: random.Random,
              t: float) -> RanksUpdated:
    matrices = []
    for layer, mtype in names:
        scores = tuple(sorted((rng.random() for _ in range(init_r)), reverse=True))
        kept = tuple(i < ranks[(layer, mtype)] for i in range(init_r))
        matrices.append(MatrixRank(
            name=f"L{layer}.{mtype}", module=f"bert.encoder.layer.{layer}.{MODULES[mtype]}", layer=layer,
            matrix_type=mtype, rank=ranks[(layer, mtype)], init_rank=init_r, importance=scores, kept=kept))
    return RanksUpdated(step=step, budget=budget, phase=phase, total_rank=sum(ranks.values()),
                        matrices=tuple(matrices), time=t)
