"""`evaluate`, `predict` and `generate` on tiny finished runs: JSON shapes, reports, bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from adalora_studio.cli import EXIT_INVALID, EXIT_OK, main
from adalora_studio.core.runs import RunFolder
from tests.core.engine_fixtures import torch_single_thread  # noqa: F401  (autouse fixture)
from tests.core.inference_fixtures import finished_causal_run, finished_classification_run


@pytest.fixture(scope="module")
def cls_run(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    return finished_classification_run(tiny_bert_dir, tmp_path_factory.mktemp("cli-cls"))


def test_predict_json(cls_run, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = cls_run[0]
    assert main(["predict", str(run_dir), "refund my payment", "app crashes", "--json"]) == EXIT_OK
    out = json.loads(capsys.readouterr().out)
    labels = RunFolder(run_dir).read_labels()
    assert [o["text"] for o in out] == ["refund my payment", "app crashes"]
    for o in out:
        assert set(o) == {"text", "label", "probabilities"} and list(o["probabilities"]) == labels
        assert math.isclose(sum(o["probabilities"].values()), 1.0, abs_tol=1e-6) and o["label"] in labels


def test_evaluate_json_shape_and_a_new_report(cls_run, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir, finished, evaluation = cls_run
    assert main(["evaluate", str(run_dir), "--data", str(evaluation), "--json"]) == EXIT_OK
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"metrics", "per_class", "confusion_matrix", "n_rows"}
    assert set(out["confusion_matrix"]) == {"labels", "counts"}
    assert out["metrics"]["accuracy"] == finished.metrics["accuracy"]
    assert sum(map(sum, out["confusion_matrix"]["counts"])) == out["n_rows"]
    assert (run_dir / "report.json").is_file() and (run_dir / "report-2.json").is_file()
    for figure in ("confusion", "reliability"):  # PNG twins drawn by `png` in its own process; stdout stays JSON
        png = run_dir / f"report-2-{figure}.png"
        assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_mtime >= (run_dir / f"report-2-{figure}.svg").stat().st_mtime
    assert main(["evaluate", str(run_dir), "--data", str(evaluation)]) == EXIT_OK
    text = capsys.readouterr().out
    assert "accuracy" in text and "report-3.json" in text


def test_bad_input_is_named(cls_run, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir, _, evaluation = cls_run
    unseen = tmp_path / "new.csv"
    unseen.write_text(evaluation.read_text(encoding="utf-8") + "my kettle is loud,kitchen\n", encoding="utf-8")
    assert main(["evaluate", str(run_dir), "--data", str(unseen)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "new.csv" in err and "column 'label'" in err and "'kitchen' (1 rows)" in err and "--known-labels-only" in err
    assert main(["evaluate", str(run_dir), "--data", str(unseen), "--known-labels-only", "--json"]) == EXIT_OK
    capsys.readouterr()
    empty = tmp_path / "empty-run"
    empty.mkdir()
    RunFolder(empty).write_config(RunFolder(run_dir).read_config())
    assert main(["predict", str(empty), "hello"]) == EXIT_INVALID
    assert "has no adapter" in capsys.readouterr().err
    assert main(["generate", str(run_dir), "hello"]) == EXIT_INVALID
    assert "text-classification run" in capsys.readouterr().err


def test_generate_streams_and_json(tiny_gpt2_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = finished_causal_run(tiny_gpt2_dir, tmp_path)
    assert main(["generate", str(run_dir), "summarize the order", "--max-new-tokens", "8", "--json"]) == EXIT_OK
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "tuned" and out["tokens"] <= 8 and out["ended"] in ("eos", "length")
    assert main(["generate", str(run_dir), "summarize the order", "--max-new-tokens", "8", "--base"]) == EXIT_OK
    assert capsys.readouterr().out.endswith("\n")
    assert main(["evaluate", str(run_dir), "--json"]) == EXIT_OK  # the run's own eval rows
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"metrics", "samples", "n_rows"} and out["metrics"]["perplexity"] > 1


def _generated(run_dir: Path, capsys: pytest.CaptureFixture[str], *options: str) -> dict:
    assert main(["generate", str(run_dir), "summarize the order", "--max-new-tokens", "12", "--json", *options]) == 0
    return json.loads(capsys.readouterr().out)


def test_generate_sampling_is_seeded_and_greedy_is_unchanged(tiny_gpt2_dir: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from adalora_studio.core.inference import GenerationSettings, generate, load_for_inference

    run_dir = finished_causal_run(tiny_gpt2_dir, tmp_path)
    greedy = _generated(run_dir, capsys)
    assert greedy["settings"] == {"decoding": "greedy", "max_new_tokens": 12}
    # Greedy is what `generate` did before the sampling options: the plain greedy generation of the same prompt.
    before = generate(load_for_inference(run_dir), "summarize the order",
                      GenerationSettings(max_new_tokens=12, greedy=True))
    assert greedy["text"] == before.text and greedy["tokens"] == len(before.token_ids)
    hot = ("--sample", "--temperature", "1.5", "--top-p", "1.0")
    first = _generated(run_dir, capsys, *hot, "--seed", "7")
    again = _generated(run_dir, capsys, *hot, "--seed", "7")
    other = _generated(run_dir, capsys, *hot, "--seed", "8")
    assert first == again  # the same seed, the same text
    assert first["settings"] == {"decoding": "sample", "max_new_tokens": 12, "temperature": 1.5, "top_p": 1.0,
                                 "seed": 7}
    assert other["text"] != first["text"] and first["text"] != greedy["text"]
    defaults = _generated(run_dir, capsys, "--sample")
    assert defaults["settings"] == {"decoding": "sample", "max_new_tokens": 12, "temperature": 0.7, "top_p": 0.9,
                                    "seed": 0}


@pytest.mark.parametrize(("options", "message"), [
    (("--sample", "--temperature", "0"), "--temperature must be greater than 0"),
    (("--sample", "--top-p", "1.5"), "--top-p must be in (0, 1]"),
    (("--max-new-tokens", "0"), "--max-new-tokens must be at least 1"),
])
def test_generate_rejects_bad_sampling_options(tmp_path: Path, capsys: pytest.CaptureFixture[str], options: tuple,
                                               message: str) -> None:
    assert main(["generate", str(tmp_path), "hi", *options]) == EXIT_INVALID
    assert message in capsys.readouterr().err
