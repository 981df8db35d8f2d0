"""Generation-based evaluation for causal LM and seq2seq: greedy, batched, capped at N eval rows.

The first ``data.generation_eval_rows`` eval examples (all when 0) are generated greedily (no sampling, one
beam: the same weights always give the same text) in batches of ``training.batch_size``, with the current rank
mask applied, and scored against their references with ``data.eval_metric`` (:mod:`adalora_studio.core.metrics`).
Causal LM prompts are the tokens before the response (labels -100) and are left-padded; seq2seq sources are the
encoder inputs. References are the decoded label tokens. Every process generates the same rows, so no gathering
is needed and all processes log the same scores.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..adalora import rank_mask_applied
from ..metrics import generation_scores

IGNORE_INDEX = -100


@dataclass(frozen=True)
class GenerationSample:
    """One generated eval row: its prompt (or source), the reference and the generated text."""

    prompt: str
    reference: str
    prediction: str


def generation_pairs(eval_ds: Any, task: str, rows: int) -> list[tuple[list[int], list[int]]]:
    """(prompt token ids, reference token ids) of the first ``rows`` eval examples (all when 0)."""
    n = len(eval_ds) if rows <= 0 else min(rows, len(eval_ds))
    part = eval_ds.select(range(n))
    pairs = []
    for ids, labels in zip(part["input_ids"], part["labels"], strict=True):
        if task == "seq2seq":
            pairs.append((list(ids), [t for t in labels if t != IGNORE_INDEX]))
            continue
        first = next((i for i, t in enumerate(labels) if t != IGNORE_INDEX), len(ids))
        pairs.append((list(ids[:first]), [t for t in labels[first:] if t != IGNORE_INDEX]))
    return pairs


def _batch(prompts: Sequence[Sequence[int]], pad_id: int, left: bool, device: Any) -> dict[str, Any]:
    import torch

    width = max(len(p) for p in prompts)
    ids, mask = [], []
    for p in prompts:
        gap = [pad_id] * (width - len(p))
        ids.append(gap + list(p) if left else list(p) + gap)
        ones, zeros = [1] * len(p), [0] * (width - len(p))
        mask.append(zeros + ones if left else ones + zeros)
    return {"input_ids": torch.tensor(ids, device=device), "attention_mask": torch.tensor(mask, device=device)}


def generate_ids(model: Any, prompts: Sequence[Sequence[int]], task: str, pad_id: int, max_new_tokens: int,
                 batch_size: int) -> list[list[int]]:
    """Greedy continuations (new tokens only) of ``prompts`` in batches; ``model`` is the (peft) model."""
    import torch

    device = next(model.parameters()).device
    out: list[list[int]] = []
    for lo in range(0, len(prompts), max(batch_size, 1)):
        chunk = prompts[lo:lo + batch_size]
        batch = _batch(chunk, pad_id, left=task != "seq2seq", device=device)
        with torch.no_grad():
            generated = model.generate(**batch, do_sample=False, num_beams=1, max_new_tokens=max_new_tokens,
                                       pad_token_id=pad_id)
        start = 0 if task == "seq2seq" else batch["input_ids"].shape[1]
        out.extend(g[start:].tolist() for g in generated)
    return out


def evaluate_generation(model: Any, tokenizer: Any, eval_ds: Any, task: str, metric: str, rows: int,
                        max_new_tokens: int, batch_size: int) -> tuple[dict[str, float], list[GenerationSample]]:
    """Generate on the capped eval rows and score them; returns (metrics in percent, the samples)."""
    pairs = generation_pairs(eval_ds, task, rows)
    if not pairs:
        return {}, []
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (tokenizer.eos_token_id or 0)
    was_training = model.training
    model.eval()
    try:
        masked = rank_mask_applied(model) if hasattr(model, "peft_config") else contextlib.nullcontext()
        with masked:  # a bare transformers model (no adapter) generates as it is
            generated = generate_ids(model, [p for p, _ in pairs], task, int(pad), max_new_tokens, batch_size)
    finally:
        if was_training:
            model.train()

    def text(ids: Sequence[int]) -> str:
        return str(tokenizer.decode(list(ids), skip_special_tokens=True)).strip()

    samples = [GenerationSample(text(p), text(r), text(g)) for (p, r), g in zip(pairs, generated, strict=True)]
    scores = generation_scores(metric, [s.prediction for s in samples], [s.reference for s in samples])
    return scores, samples
