"""SQuAD EM/F1 against the official v1.1 evaluation script's functions, span post-processing, generation metrics."""

from __future__ import annotations

import re
import string
from collections import Counter

import pytest

from adalora_studio.core.metrics import (
    best_span,
    exact_match_score,
    f1_score,
    generation_scores,
    missing_metric_message,
    normalize_answer,
    squad_scores,
)

# ---- the official SQuAD v1.1 evaluation script's functions, verbatim (evaluate-v1.1.py) ----------------------


def _official_normalize_answer(s):
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def _official_f1(prediction, ground_truth):
    prediction_tokens = _official_normalize_answer(prediction).split()
    ground_truth_tokens = _official_normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def _official_em(prediction, ground_truth):
    return _official_normalize_answer(prediction) == _official_normalize_answer(ground_truth)


def _official_evaluate(gold: dict[str, list[str]], predictions: dict[str, str]) -> dict[str, float]:
    f1 = exact_match = total = 0
    for qid, truths in gold.items():
        total += 1
        if qid not in predictions:
            continue
        exact_match += max(_official_em(predictions[qid], t) for t in truths)
        f1 += max(_official_f1(predictions[qid], t) for t in truths)
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


CASES = [
    ("Denver Broncos", ["Denver Broncos", "The Denver Broncos"]),
    ("the Broncos", ["Denver Broncos"]),
    ("Santa Clara, California", ["Santa Clara", "Levi's Stadium in the San Francisco Bay Area at Santa Clara"]),
    ("an apple a day", ["The apple, a day!"]),
    ("Saint Bernadette Soubirous", ["Saint Bernadette Soubirous"]),
    ("1229 people", ["1229"]),
    ("", ["something"]),
    ("blue glazed bowls and rye bread", ["blue glazed bowls", "rye bread"]),
    ("Tr\u00e8s  bien.", ["tr\u00e8s bien"]),
    ("the the the", ["a an"]),
]


@pytest.mark.parametrize(("prediction", "truths"), CASES)
def test_each_case_equals_the_official_script(prediction: str, truths: list[str]) -> None:
    assert normalize_answer(prediction) == _official_normalize_answer(prediction)
    for truth in truths:
        assert exact_match_score(prediction, truth) == float(_official_em(prediction, truth))
        assert f1_score(prediction, truth) == pytest.approx(_official_f1(prediction, truth), abs=1e-12)


def test_corpus_scores_equal_the_official_script() -> None:
    gold = {f"q{i}": truths for i, (_, truths) in enumerate(CASES)}
    predictions = {f"q{i}": p for i, (p, _) in enumerate(CASES) if i != 4}  # one unanswered question
    ours = squad_scores(predictions, gold)
    official = _official_evaluate(gold, predictions)
    assert ours["exact_match"] == pytest.approx(official["exact_match"], abs=1e-9)
    assert ours["f1"] == pytest.approx(official["f1"], abs=1e-9)
    assert 0 < ours["exact_match"] < ours["f1"] < 100


def test_hand_computed_f1() -> None:
    # prediction tokens: santa clara california; gold: santa clara -> P 2/3, R 1 -> F1 0.8
    assert f1_score("Santa Clara, California", "Santa Clara") == pytest.approx(0.8)


def test_squad_v2_no_answer_rules() -> None:
    gold = {"a": ["Paris"], "b": []}
    assert squad_scores({"a": "Paris", "b": ""}, gold, version_2=True)["f1"] == 100.0
    assert squad_scores({"a": "Paris", "b": ""}, gold)["f1"] == 50.0  # v1.1: two empty texts share no token
    scores = squad_scores({"a": "Paris", "b": "London"}, gold, version_2=True)
    assert scores["exact_match"] == 50.0 and scores["noans_exact_match"] == 0.0 and scores["hasans_f1"] == 100.0


def test_best_span_picks_the_best_window_and_maps_to_characters() -> None:
    context = "alpha beta gamma delta"
    # window 1 covers "alpha beta", window 2 "beta gamma delta"; offsets -1 mark question/special tokens
    w1 = ([0.0, 1.0, 0.5], [0.0, 0.2, 1.0], [[-1, -1], [0, 5], [6, 10]])
    w2 = ([0.0, 0.1, 3.0, 0.2], [0.0, 0.1, 0.3, 2.5], [[-1, -1], [6, 10], [11, 16], [17, 22]])
    pred = best_span(context, [w1, w2])
    assert (pred.text, pred.start_char, pred.end_char) == ("gamma delta", 11, 22)
    assert pred.score == pytest.approx(5.5) and 0 < pred.probability <= 1
    # the end before the start, or too long, is never chosen
    assert best_span(context, [w2], max_answer_length=1).text in ("gamma", "delta", "beta")
    # SQuAD v2: a strong first-token score means "no answer"
    null = ([9.0, 0.1, 0.2], [9.0, 0.1, 0.2], [[-1, -1], [0, 5], [6, 10]])
    assert best_span(context, [null], allow_null=True).text == ""
    assert best_span(context, [null], allow_null=False).text != ""


def test_generation_scores_by_hand() -> None:
    preds, refs = ["the cat sat on the mat", "hello there"], ["the cat sat on the rug", "hello there"]
    scores = generation_scores("rouge", preds, refs)
    assert scores["exact_match"] == 50.0
    # rouge1 of pair 1: 5 of 6 unigrams match both ways -> F 5/6 (rouge-score keeps articles); pair 2: 1
    assert scores["rouge1"] == pytest.approx(100 * (5 / 6 + 1) / 2)
    assert generation_scores("bleu", refs, refs)["bleu"] == pytest.approx(100.0)
    assert generation_scores("chrf", refs, refs)["chrf"] == pytest.approx(100.0)
    assert "pip install rouge-score" in missing_metric_message("rouge")
