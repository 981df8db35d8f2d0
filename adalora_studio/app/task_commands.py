"""``predict`` for question-answering runs and ``generate`` for seq2seq runs (the other tasks' commands are in
:mod:`.inference_commands`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from ..core.errors import StudioError


def qa_predict(loaded: Any, questions: Sequence[str], context: str | None, as_json: bool, out: TextIO) -> int:
    """Answer each question from ``context``: the span, its characters in the context and its score."""
    from ..core.inference import answer_question

    if not context:
        raise StudioError("a question-answering run answers from a passage: give it with --context TEXT")
    d = loaded.config.data if loaded.config is not None else None
    kwargs = {"max_length": d.max_length, "doc_stride": d.doc_stride, "max_answer_length": d.max_answer_length,
              "allow_null": d.eval_metric == "squad_v2"} if d is not None else {}
    answers = [answer_question(loaded.model, loaded.tokenizer, q, context, **kwargs) for q in questions]
    if as_json:
        print(json.dumps([{"question": q, "answer": a.text, "start": a.start_char, "end": a.end_char,
                           "score": a.score, "probability": a.probability} for q, a in zip(questions, answers,
                                                                                          strict=True)], indent=2),
              file=out)
        return 0
    for q, a in zip(questions, answers, strict=True):
        print(f"{q}\n    {a.text or '(no answer)'}  [characters {a.start_char}-{a.end_char}, score {a.score:.3f}, "
              f"p {a.probability:.1%}]", file=out)
    return 0


def seq2seq_generate(loaded: Any, source: str, max_new_tokens: int, as_json: bool, out: TextIO) -> int:
    """The generated target of ``source`` (greedy)."""
    from ..core.inference import generate_text

    max_length = loaded.config.data.max_length if loaded.config is not None else 512
    text = generate_text(loaded.model, loaded.tokenizer, source, "seq2seq", max_length=max_length,
                         max_new_tokens=max_new_tokens)
    print(json.dumps({"source": source, "text": text}, indent=2) if as_json else text, file=out)
    return 0
