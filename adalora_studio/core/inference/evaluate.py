"""Evaluating a loaded model on rows (the run's own, or another file) into the sections of a report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .classify import score_texts
from .generate import GenerationSettings, generate
from .loaded import LoadedModel
from .metrics import classification_report
from .rows import EvalRows

SAMPLE_PROMPTS = 3
SAMPLE_TOKENS = 32


def evaluate_classification(loaded: LoadedModel, rows: EvalRows, batch_size: int = 16) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class table, confusion matrix, confident mistakes and calibration of ``rows``."""
    scored = score_texts(loaded, rows.texts, rows.pairs, rows.labels, batch_size=batch_size)
    texts = rows.texts if rows.pairs is None else [f"{a} | {b}" for a, b in zip(rows.texts, rows.pairs, strict=True)]
    sections = classification_report(texts, rows.labels, scored.probs, loaded.label_names, scored.losses)
    sections["truncated_rows"] = len(scored.notes)
    return sections


def causal_eval_loss(loaded: LoadedModel, prompts: Sequence[str], responses: Sequence[str],
                     batch_size: int = 8) -> tuple[float, int]:
    """Mean task loss per response token (as the engine computes it) and the number of rows scored."""
    import datasets
    import torch
    import torch.nn.functional as F

    from ..data import IGNORE_INDEX, ChatLayout, make_collator, resolve_template
    from ..data.chat_tokenize import tokenize_conversations
    from ..data.tokenize import finish_causal

    table = datasets.Dataset.from_dict({"prompt": list(prompts), "response": list(responses)})
    template = resolve_template(loaded.config.data.template if loaded.config is not None else "auto",
                                loaded.tokenizer)  # the template the run trained with (plain: prompt\nresponse<eos>)
    ds = tokenize_conversations(table, loaded.tokenizer, ChatLayout("prompt-response", ("prompt", "response")),
                                template, loaded.max_length)
    ds, _, _ = finish_causal(ds, loaded.max_length)
    collate = make_collator("causal-lm", loaded.tokenizer)
    device = next(loaded.model.parameters()).device
    total, count = 0.0, 0
    for start in range(0, len(ds), batch_size):
        batch = collate([ds[i] for i in range(start, min(start + batch_size, len(ds)))])
        batch = {k: v.to(device) for k, v in batch.items()}
        with torch.no_grad():
            logits = loaded.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.float()
        shifted = batch["labels"][:, 1:]
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), shifted.reshape(-1),
                               ignore_index=IGNORE_INDEX, reduction="sum")
        total += float(loss.item())
        count += int((shifted != IGNORE_INDEX).sum().item())
    return (total / count if count else float("nan")), len(ds)


def evaluate_causal(loaded: LoadedModel, rows: EvalRows, batch_size: int = 8,
                    n_samples: int = SAMPLE_PROMPTS) -> dict[str, Any]:
    """Eval loss, perplexity, and a few prompts with reference, base and tuned generation (greedy)."""
    loss, n = causal_eval_loss(loaded, rows.texts, rows.responses, batch_size)
    settings = GenerationSettings(max_new_tokens=SAMPLE_TOKENS, greedy=True)
    samples = []
    for prompt, reference in list(zip(rows.texts, rows.responses, strict=True))[:n_samples]:
        samples.append({"prompt": prompt, "reference": reference,
                        "base": generate(loaded, prompt, settings, base=True).text,
                        "tuned": generate(loaded, prompt, settings).text})
    perplexity = math.exp(min(loss, 700.0)) if math.isfinite(loss) else float("nan")
    return {"metrics": {"eval_loss": loss, "perplexity": perplexity}, "samples": samples, "n_rows": n}
