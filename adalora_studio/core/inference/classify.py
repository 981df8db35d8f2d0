"""Classifying texts with a loaded model: the predicted label and every class's probability."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .loaded import LoadedModel


@dataclass(frozen=True)
class Prediction:
    """One text's prediction. ``probabilities`` maps each label (id order) to its softmax probability."""

    text: str
    label: str
    probabilities: dict[str, float]
    note: str = ""
    """Set when the input was cut to the run's max_length (the model saw only the start)."""

    @property
    def confidence(self) -> float:
        """The predicted label's probability."""
        return self.probabilities[self.label]

    def to_dict(self) -> dict[str, Any]:
        """``{"text", "label", "probabilities"}`` (plus ``note`` when there is one), as ``predict --json`` prints."""
        out: dict[str, Any] = {"text": self.text, "label": self.label, "probabilities": self.probabilities}
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class ScoredBatch:
    """Probabilities of many inputs (rows in input order) and the truncation notes by row index."""

    probs: list[list[float]] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    """Cross-entropy per row when labels were given."""
    notes: dict[int, str] = field(default_factory=dict)


def truncation_note(n_tokens: int, max_length: int) -> str:
    """The visible note for an input longer than ``max_length`` tokens."""
    return (f"input truncated: the model saw the first {max_length} of {n_tokens} tokens "
            "(the run's data.max_length)")


def score_texts(loaded: LoadedModel, texts: Sequence[str], pairs: Sequence[str] | None = None,
                labels: Sequence[int] | None = None, batch_size: int = 16) -> ScoredBatch:
    """Softmax probabilities for each text (or text pair), in batches of ``batch_size`` in input order.

    Inputs are tokenised as training did (truncated to the run's max_length, padded per batch).
    """
    import torch
    import torch.nn.functional as F

    tok, model = loaded.tokenizer, loaded.model
    device = next(model.parameters()).device
    out = ScoredBatch()
    for start in range(0, len(texts), batch_size):
        chunk = [str(t) for t in texts[start:start + batch_size]]
        second = [str(t) for t in pairs[start:start + batch_size]] if pairs is not None else None
        full = tok(chunk, second, truncation=False)["input_ids"]
        for i, ids in enumerate(full):
            if len(ids) > loaded.max_length:
                out.notes[start + i] = truncation_note(len(ids), loaded.max_length)
        enc = tok(chunk, second, truncation=True, max_length=loaded.max_length, padding=True, return_tensors="pt")
        with torch.no_grad():
            logits = model(**{k: v.to(device) for k, v in enc.items()}).logits.float()
        out.probs.extend(F.softmax(logits, dim=-1).cpu().tolist())
        if labels is not None:
            y = torch.tensor(list(labels[start:start + batch_size]), device=logits.device)
            out.losses.extend(F.cross_entropy(logits, y, reduction="none").cpu().tolist())
    return out


def predict(loaded: LoadedModel, texts: Sequence[str]) -> list[Prediction]:
    """The predicted label and class probabilities of each text (labels from the run's label map)."""
    if loaded.task != "text-classification":
        raise ValueError(f"{loaded.name} is a {loaded.task} model; predict needs a text-classification run")
    scored = score_texts(loaded, texts)
    names = loaded.label_names or tuple(f"LABEL_{i}" for i in range(len(scored.probs[0]) if scored.probs else 0))
    out = []
    for i, (text, probs) in enumerate(zip(texts, scored.probs, strict=True)):
        best = max(range(len(probs)), key=probs.__getitem__)
        out.append(Prediction(text=str(text), label=names[best], probabilities=dict(zip(names, probs, strict=True)),
                              note=scored.notes.get(i, "")))
    return out
