"""Generating text with a causal LM, one token at a time, so a viewer can show it as it streams.

A plain loop with the key/value cache: greedy decoding picks the most likely token (and equals transformers'
``generate(do_sample=False)`` token for token); sampling applies temperature and top-p with a seeded generator.
It ends at the end-of-sequence token, at ``max_new_tokens``, or when a stop is requested.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..adalora import adapter_disabled, unwrap_base
from ..events import StopToken
from .loaded import LoadedModel


@dataclass(frozen=True)
class GenerationSettings:
    """How to decode. ``greedy`` ignores temperature and top-p."""

    max_new_tokens: int = 64
    temperature: float = 0.7
    top_p: float = 0.9
    greedy: bool = True
    seed: int = 0


@dataclass(frozen=True)
class Generation:
    """A finished generation: the text after the prompt, its token ids, and why it ended."""

    prompt: str
    text: str
    token_ids: tuple[int, ...]
    ended: str
    """``eos`` (stop token), ``length`` (max_new_tokens), or ``stopped`` (on request)."""
    note: str = ""
    """Set when the prompt was cut to fit the model's context."""
    tuned: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``generate --json``."""
        out = {"prompt": self.prompt, "text": self.text, "tokens": len(self.token_ids), "ended": self.ended,
               "model": "tuned" if self.tuned else "base"}
        if self.note:
            out["note"] = self.note
        return out


def format_prompt(prompt: str) -> str:
    """The prompt as the run trained on it: ``prompt`` then a newline (see :func:`data.tokenize` causal LM)."""
    return prompt if prompt.endswith("\n") else f"{prompt}\n"


def templated_prompt(loaded: LoadedModel, prompt: str) -> tuple[str, bool]:
    """``prompt`` in the template the run trained with (``data.template``; see :mod:`core.data.templates`): the
    tokenizer's chat template with the assistant's turn opened, else :func:`format_prompt`. Also whether the
    tokenizer's own special tokens are to be added (the chat template writes its own)."""
    from ..data import prompt_text, resolve_template
    from ..errors import DataError

    choice = loaded.config.data.template if loaded.config is not None else "auto"
    try:
        template = resolve_template(choice, loaded.tokenizer)
    except DataError:
        template = "plain"
    if template == "chat":
        return prompt_text([{"role": "user", "content": prompt}], loaded.tokenizer, "chat"), False
    return format_prompt(prompt), True


def prompt_ids(loaded: LoadedModel, prompt: str, max_new_tokens: int) -> tuple[list[int], str]:
    """Token ids of the formatted prompt and a note when it was cut (its start dropped) to fit the context."""
    text, special = templated_prompt(loaded, prompt)
    ids = list(loaded.tokenizer(text, add_special_tokens=special)["input_ids"])
    context = int(getattr(loaded.model.config, "max_position_embeddings", 0) or
                  getattr(loaded.model.config, "n_positions", 0) or 2048)
    room = max(1, context - max_new_tokens)
    if len(ids) > room:
        note = (f"prompt truncated: its first {len(ids) - room} of {len(ids)} tokens were dropped to leave room for "
                f"{max_new_tokens} new tokens in the model's {context}-token context")
        return ids[-room:], note
    return ids, ""


def stream_tokens(model: Any, ids: list[int], settings: GenerationSettings, eos_id: int | None,
                  stop: StopToken | None = None) -> Iterator[int]:
    """Yield new token ids one by one (the stop token included, then the loop ends)."""
    import torch

    device = next(model.parameters()).device
    gen = torch.Generator(device="cpu").manual_seed(settings.seed)
    cache_kw = _cache_keyword(model)
    past = None
    step_input = torch.tensor([ids], device=device)
    attention = torch.ones_like(step_input)
    with torch.no_grad():
        for _ in range(settings.max_new_tokens):
            if stop is not None and stop.stop_requested:
                return
            out = model(input_ids=step_input, attention_mask=attention, use_cache=True, **{cache_kw: past})
            past = out[cache_kw] if cache_kw in out else out["past_key_values"]
            token = _pick(out.logits[0, -1].float().cpu(), settings, gen)
            yield token
            if eos_id is not None and token == eos_id:
                return
            step_input = torch.tensor([[token]], device=device)
            attention = torch.cat([attention, torch.ones((1, 1), dtype=attention.dtype, device=device)], dim=1)


def _cache_keyword(model: Any) -> str:
    """``cache`` (transformers 5) or ``past_key_values`` (older): what the model's forward calls the KV cache."""
    import inspect

    base = unwrap_base(model)
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"


def _pick(logits: Any, settings: GenerationSettings, gen: Any) -> int:
    import torch

    if settings.greedy or settings.temperature <= 0:
        return int(torch.argmax(logits).item())
    probs = torch.softmax(logits / settings.temperature, dim=-1)
    ordered, index = torch.sort(probs, descending=True)
    keep = torch.cumsum(ordered, dim=-1) - ordered < settings.top_p  # the smallest set reaching top_p
    keep[0] = True
    ordered = ordered * keep
    choice = torch.multinomial(ordered / ordered.sum(), 1, generator=gen)
    return int(index[choice].item())


def generate(loaded: LoadedModel, prompt: str, settings: GenerationSettings | None = None, *, base: bool = False,
             stop: StopToken | None = None, on_text: Callable[[str], None] | None = None) -> Generation:
    """Generate after ``prompt`` with the tuned model (or the base model with ``base``), calling ``on_text`` with
    each new piece of text as it is decoded."""
    if loaded.task != "causal-lm":
        raise ValueError(f"{loaded.name} is a {loaded.task} model; generate needs a causal-lm run")
    settings = settings or GenerationSettings()
    tok = loaded.tokenizer
    ids, note = prompt_ids(loaded, prompt, settings.max_new_tokens)
    new: list[int] = []
    shown = ""
    ended = "length"
    switch = adapter_disabled(loaded.model) if base else contextlib.nullcontext()
    with switch:
        for token in stream_tokens(loaded.model, ids, settings, tok.eos_token_id, stop):
            new.append(token)
            if token == tok.eos_token_id:
                ended = "eos"
                break
            text = tok.decode(new, skip_special_tokens=True)
            if on_text is not None and len(text) > len(shown) and text.startswith(shown):
                on_text(text[len(shown):])
                shown = text
    if stop is not None and stop.stop_requested and ended == "length" and len(new) < settings.max_new_tokens:
        ended = "stopped"
    text = tok.decode(new, skip_special_tokens=True)
    if on_text is not None and len(text) > len(shown) and text.startswith(shown):
        on_text(text[len(shown):])
    return Generation(prompt=prompt, text=text, token_ids=tuple(new), ended=ended, note=note, tuned=not base)
