"""Rendering turns for the model, and which tokens carry the loss.

Two templates (``data.template``):

- ``chat``: the tokenizer's own chat template (``tokenizer.apply_chat_template``), as an Instruct model was trained
  with. Loss is on each assistant turn's rendered span (its text and the template's end-of-turn marker); the
  system and user turns and the template's role headers carry none.
- ``plain`` (the documented fallback for tokenizers without a template): each system or user turn is its text and
  a newline, each assistant turn is its text and the end-of-sequence token, with the tokenizer's usual start
  token in front. A single prompt/response pair is ``prompt + "\\n" + response + eos``, loss on ``response + eos``.

``auto`` picks ``chat`` when the tokenizer has a template, else ``plain``. Plain-text rows (layout ``text``) are
trained on whole either way. :func:`encode_turns` gives the ids and labels; :func:`render_tokens` turns them back
into text pieces marked trained or not, which is what the dataset preview shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import DataError
from .tokenize import IGNORE_INDEX

Segment = tuple[str, bool]
"""A piece of rendered text and whether it carries the loss."""


def has_chat_template(tokenizer: Any) -> bool:
    """True when the tokenizer carries a chat template."""
    return bool(getattr(tokenizer, "chat_template", None))


def resolve_template(choice: str, tokenizer: Any) -> str:
    """``chat`` or ``plain`` for ``data.template`` = ``choice`` with this tokenizer."""
    if choice == "chat" and not has_chat_template(tokenizer):
        raise DataError("data.template is 'chat' but the model's tokenizer has no chat template; set data.template "
                        "to auto or plain", column="data.template")
    if choice == "plain":
        return "plain"
    return "chat" if has_chat_template(tokenizer) else "plain"


def _render(tokenizer: Any, turns: Sequence[dict[str, str]], generation: bool = False) -> str:
    text = tokenizer.apply_chat_template(list(turns), tokenize=False, add_generation_prompt=generation)
    return str(text)


def chat_segments(turns: Sequence[dict[str, str]], tokenizer: Any) -> list[Segment]:
    """The tokenizer's chat rendering of ``turns`` cut into masked and trained (assistant) pieces.

    Each assistant span runs from the end of the rendering of the turns before it with the generation prompt to
    the end of the rendering that includes it. Raises ValueError when the template renders a conversation's start
    differently from the whole (then the plain template must be used).
    """
    full = _render(tokenizer, turns)
    pieces: list[Segment] = []
    done = 0
    for i, turn in enumerate(turns):
        if turn["role"] != "assistant":
            continue
        start = len(_render(tokenizer, turns[:i], generation=True)) if i else 0
        end_text = _render(tokenizer, turns[: i + 1])
        if not full.startswith(end_text) or start < done or start > len(end_text):
            raise ValueError("the chat template does not render a conversation's start the same way as the whole; "
                             "set data.template to plain")
        if start > done:
            pieces.append((full[done:start], False))
        pieces.append((full[start:len(end_text)], True))
        done = len(end_text)
    if done < len(full):
        pieces.append((full[done:], False))
    return pieces


def plain_segments(turns: Sequence[dict[str, str]]) -> list[Segment]:
    """The plain template's pieces (the end token after each assistant turn is added by :func:`encode_turns`)."""
    pieces: list[Segment] = []
    for turn in turns:
        if turn["role"] in ("assistant", "text"):
            pieces.append((turn["content"], True))
        else:
            pieces.append((f"{turn['content']}\n", False))
    return pieces


def encode_turns(turns: Sequence[dict[str, str]], tokenizer: Any, template: str) -> tuple[list[int], list[int]]:
    """Token ids and labels (``-100`` where there is no loss) of one conversation, not cut to any length."""
    chat = template == "chat" and turns[0]["role"] != "text"
    pieces = chat_segments(turns, tokenizer) if chat else plain_segments(turns)
    eos = tokenizer.eos_token_id
    ids: list[int] = []
    labels: list[int] = []
    for i, (text, trained) in enumerate(pieces):
        part = list(tokenizer(text, add_special_tokens=(i == 0 and not chat))["input_ids"]) if text else []
        if trained and not chat and eos is not None:
            part.append(eos)
        ids.extend(part)
        labels.extend(part if trained else [IGNORE_INDEX] * len(part))
    return ids, labels


def render_tokens(input_ids: Sequence[int], labels: Sequence[int], tokenizer: Any) -> list[Segment]:
    """``input_ids`` decoded back to text in runs of trained / not-trained tokens (special tokens shown)."""
    pieces: list[Segment] = []
    run: list[int] = []
    state: bool | None = None
    for token, label in zip(input_ids, labels, strict=True):
        trained = label != IGNORE_INDEX
        if state is not None and trained != state:
            pieces.append((tokenizer.decode(run, skip_special_tokens=False), state))
            run = []
        run.append(int(token))
        state = trained
    if run and state is not None:
        pieces.append((tokenizer.decode(run, skip_special_tokens=False), state))
    return pieces


def prompt_text(turns: Sequence[dict[str, str]], tokenizer: Any, template: str) -> str:
    """The text a model is given to continue a conversation (for generation): the same template as training."""
    if template == "chat":
        return _render(tokenizer, turns, generation=True)
    return "".join(text for text, _trained in plain_segments(turns))
