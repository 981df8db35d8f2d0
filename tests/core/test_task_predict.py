"""Single QA and generation predictions, and the reports with their worst examples."""

from __future__ import annotations

from pathlib import Path

from adalora_studio.core.config import ModelConfig
from adalora_studio.core.data.squad import QAExample
from adalora_studio.core.inference.generation_eval import GenerationSample
from adalora_studio.core.inference.tasks import answer_question, generate_text, generation_report, qa_report
from adalora_studio.core.metrics import SpanPrediction
from adalora_studio.core.model import load_model_and_tokenizer
from tests.core.engine_fixtures import torch_single_thread  # noqa: F401


def test_answer_question_gives_a_span_of_the_context(tiny_bert_dir: Path) -> None:
    model, tok = load_model_and_tokenizer(ModelConfig(source="folder", path=str(tiny_bert_dir)), "question-answering")
    context = "the river runs past the old mill . " * 10 + "the town was founded by marco ."
    pred = answer_question(model, tok, "who founded the town ?", context, max_length=32, doc_stride=8)
    assert pred.text and context[pred.start_char:pred.end_char] == pred.text
    assert 0 < pred.probability <= 1
    assert answer_question(model, tok, "who founded the town ?", context, max_length=32, doc_stride=8) == pred


def test_generate_text_is_deterministic(tiny_t5_dir: Path) -> None:
    model, tok = load_model_and_tokenizer(ModelConfig(source="folder", path=str(tiny_t5_dir)), "seq2seq")
    first = generate_text(model, tok, "please write a short answer", "seq2seq", max_new_tokens=5)
    assert first == generate_text(model, tok, "please write a short answer", "seq2seq", max_new_tokens=5)


def test_reports_list_the_worst_examples_first() -> None:
    examples = [QAExample("a", "x", "q1", ("paris",), (0,), 1), QAExample("b", "x", "q2", ("rome",), (0,), 2)]
    preds = [SpanPrediction("paris", 0, 5, 3.0, 0.9), SpanPrediction("milan", 0, 5, 1.0, 0.2)]
    report = qa_report(examples, preds, n_worst=1)
    assert report["metrics"]["exact_match"] == 50.0 and [r["id"] for r in report["worst"]] == ["b"]
    samples = [GenerationSample("p1", "the cat sat", "the cat sat"), GenerationSample("p2", "a dog ran", "trees")]
    gen = generation_report(samples, "rouge", n_worst=2)
    assert [r["prompt"] for r in gen["worst"]] == ["p2", "p1"] and gen["metrics"]["exact_match"] == 50.0
