"""Chat and instruction layouts for causal LM: which columns hold a conversation, and reading rows as turns.

Layouts (``data.chat_format``):

- ``messages``: an OpenAI-style list of ``{"role": "system"|"user"|"assistant", "content": ...}`` per row;
- ``sharegpt``: a ``conversations`` list of ``{"from": "system"|"human"|"gpt", "value": ...}`` per row;
- ``alpaca``: ``instruction``, optional ``input`` and ``output`` columns; a non-empty input is joined to the
  instruction after a blank line (``instruction + "\\n\\n" + input``), as the Alpaca recipe does;
- ``prompt-response``: one user turn and one assistant turn from two columns;
- ``text``: a single text column trained on whole (continued pretraining; ``.txt`` files read this way).

Every row becomes a list of turns ``{"role", "content"}``; :mod:`templates` renders them for the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import DataError
from .columns import PROMPT_NAMES, RESPONSE_NAMES

LAYOUTS = ("messages", "sharegpt", "alpaca", "prompt-response", "text")
ROLES = {"system": "system", "user": "user", "human": "user", "assistant": "assistant", "gpt": "assistant",
         "chatgpt": "assistant", "bot": "assistant", "model": "assistant"}
"""Role names read (ShareGPT's ``human``/``gpt`` included) and the role each becomes."""
MESSAGES_NAMES = ("messages", "chat", "dialogue")
SHAREGPT_NAMES = ("conversations", "conversation")
TEXT_NAMES = ("text", "content", "document")


@dataclass(frozen=True)
class ChatLayout:
    """How the rows of a causal-LM dataset hold their turns."""

    kind: str
    """One of :data:`LAYOUTS`."""
    columns: tuple[str, ...]
    """messages/sharegpt/text: (column,); alpaca: (instruction, input or "", output); prompt-response: (p, r)."""

    def describe(self) -> str:
        """One line for people: the layout and its columns."""
        names = {"messages": "OpenAI messages", "sharegpt": "ShareGPT conversations", "alpaca": "Alpaca",
                 "prompt-response": "prompt/response", "text": "plain text"}
        cols = ", ".join(f"'{c}'" for c in self.columns if c)
        return f"{names[self.kind]} ({cols})"

    @property
    def main_column(self) -> str:
        """The column messages about a row's conversation name."""
        return self.columns[-1] if self.kind in ("alpaca", "prompt-response") else self.columns[0]


def _lower(columns: Sequence[str]) -> dict[str, str]:
    return {c.lower().strip(): c for c in columns}


def _find(columns: Sequence[str], names: Sequence[str]) -> str | None:
    lower = _lower(columns)
    return next((lower[n] for n in names if n in lower), None)


def _turn_keys(sample: Any) -> set[str]:
    if isinstance(sample, list) and sample and isinstance(sample[0], dict):
        return set(sample[0])
    return set()


def _by_content(columns: Sequence[str], sample: Mapping[str, Any]) -> ChatLayout | None:
    for column in columns:
        keys = _turn_keys(sample.get(column))
        if {"role", "content"} <= keys:
            return ChatLayout("messages", (column,))
        if {"from", "value"} <= keys:
            return ChatLayout("sharegpt", (column,))
    return None


def detect_layout(columns: Sequence[str], sample: Mapping[str, Any] | None = None, choice: str = "auto",
                  prompt_column: str = "", response_column: str = "", file: str = "") -> ChatLayout:
    """The layout of a table with ``columns`` (``sample``: one row, to recognise turn lists by their keys).

    ``choice`` (``data.chat_format``) forces a layout; ``prompt_column``/``response_column`` pick the columns of
    prompt-response. Raises :class:`DataError` (listing the columns) when the layout cannot be found.
    """
    sample = sample or {}
    wanted: tuple[str, ...] = LAYOUTS
    if choice != "auto":
        wanted = (choice,)
    elif prompt_column or response_column:  # set columns win, unless they are Alpaca's instruction and output
        alpaca = _layout_of("alpaca", columns, sample, "", "")
        fits = alpaca is not None and {prompt_column, response_column} - {""} <= {alpaca.columns[0], alpaca.columns[2]}
        wanted = ("alpaca",) if fits and prompt_column != response_column else ("prompt-response",)
    for kind in wanted:
        layout = _layout_of(kind, columns, sample, prompt_column, response_column)
        if layout is not None:
            return layout
    if choice != "auto":
        raise DataError(f"data.chat_format is '{choice}' but the file has no such columns ({_needs(choice)}); its "
                        f"columns: {', '.join(columns)}", file=file, column="data.chat_format")
    raise DataError("could not find a conversation or prompt/response columns: expected 'messages' (OpenAI), "
                    "'conversations' (ShareGPT), instruction/output (Alpaca), prompt/response or a single text "
                    f"column; set data.chat_format or data.prompt_column and data.response_column. Columns: "
                    f"{', '.join(columns)}", file=file)


def _needs(kind: str) -> str:
    return {"messages": "a 'messages' list of role/content turns",
            "sharegpt": "a 'conversations' list of from/value turns",
            "alpaca": "'instruction' and 'output', optionally 'input'",
            "prompt-response": "a prompt and a response column", "text": "a text column"}[kind]


def _layout_of(kind: str, columns: Sequence[str], sample: Mapping[str, Any], prompt_column: str,
               response_column: str) -> ChatLayout | None:
    if kind in ("messages", "sharegpt"):
        found = _by_content(columns, sample)
        if found is not None and found.kind == kind:
            return found
        named = _find(columns, MESSAGES_NAMES if kind == "messages" else SHAREGPT_NAMES)
        return ChatLayout(kind, (named,)) if named and not sample else None
    if kind == "alpaca":
        instruction, output = _find(columns, ("instruction",)), _find(columns, ("output",))
        if instruction and output:
            return ChatLayout("alpaca", (instruction, _find(columns, ("input",)) or "", output))
        return None
    if kind == "prompt-response":
        prompt = prompt_column or _find(columns, PROMPT_NAMES)
        response = response_column or _find(columns, RESPONSE_NAMES)
        if prompt and response and prompt != response:
            return ChatLayout("prompt-response", (prompt, response))
        return None
    text = _find(columns, TEXT_NAMES) or (columns[0] if len(columns) == 1 else None)
    return ChatLayout("text", (text,)) if text else None


def row_turns(layout: ChatLayout, row: Mapping[str, Any]) -> list[dict[str, str]]:
    """The turns of one row. Raises ValueError (a sentence) when the row is not a usable conversation."""
    kind, cols = layout.kind, layout.columns
    if kind == "text":
        return [{"role": "text", "content": _text(row.get(cols[0]), cols[0])}]
    if kind == "prompt-response":
        return [{"role": "user", "content": _text(row.get(cols[0]), cols[0])},
                {"role": "assistant", "content": _text(row.get(cols[1]), cols[1])}]
    if kind == "alpaca":
        instruction = _text(row.get(cols[0]), cols[0])
        extra = row.get(cols[1]) if cols[1] else None
        if isinstance(extra, str) and extra.strip():
            instruction = f"{instruction}\n\n{extra}"
        return [{"role": "user", "content": instruction}, {"role": "assistant", "content": _text(row.get(cols[2]),
                                                                                                  cols[2])}]
    return _list_turns(row.get(cols[0]), kind)


def _text(value: Any, column: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"column '{column}' is empty")
    return value if isinstance(value, str) else str(value)


def _list_turns(value: Any, kind: str) -> list[dict[str, str]]:
    role_key, content_key = ("role", "content") if kind == "messages" else ("from", "value")
    if not isinstance(value, list) or not value:
        raise ValueError(f"is not a list of turns (got {type(value).__name__})")
    turns = []
    for i, turn in enumerate(value, start=1):
        if not isinstance(turn, dict) or role_key not in turn:
            raise ValueError(f"turn {i} has no '{role_key}'")
        role = ROLES.get(str(turn[role_key]).strip().lower())
        if role is None:
            raise ValueError(f"turn {i} has the unknown {role_key} '{turn[role_key]}' (use one of: "
                             f"{', '.join(sorted(ROLES))})")
        content = turn.get(content_key)
        turns.append({"role": role, "content": "" if content is None else str(content)})
    if not any(t["role"] == "assistant" and t["content"].strip() for t in turns):
        raise ValueError("has no assistant turn with text, so there is nothing to learn from it")
    return turns


def exchanges(layout: ChatLayout, columns: Mapping[str, Sequence[Any]]) -> tuple[list[str], list[str]]:
    """Per row of a columnar table: the last assistant turn and the user (or text) turn before it, as (prompts,
    responses). Evaluation and generation samples use one exchange per conversation. Raises :class:`DataError`
    (row and column; no file) for a row that is not a usable conversation."""
    prompts: list[str] = []
    responses: list[str] = []
    names = [c for c in layout.columns if c]
    for j in range(len(columns[names[0]]) if names else 0):
        try:
            turns = row_turns(layout, {c: columns[c][j] for c in names})
        except ValueError as exc:
            raise DataError(f"row {j + 1} {exc}", row=j + 1, column=layout.main_column) from None
        last = max((i for i, t in enumerate(turns) if t["role"] == "assistant"), default=len(turns))
        before = [t["content"] for t in turns[:last] if t["role"] in ("user", "text")]
        prompts.append(before[-1] if before else "")
        responses.append(turns[last]["content"] if last < len(turns) else "")
    return prompts, responses
