"""Using trained runs: predict, evaluate (report card), streamed generation, loading a stopped run's checkpoint."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from adalora_studio.core.errors import DataError, RunError
from adalora_studio.core.inference import (
    GenerationSettings,
    ModelCache,
    UnseenLabelsError,
    evaluate_run,
    generate,
    load_for_inference,
    predict,
    prompt_ids,
    report_files,
    stream_tokens,
    write_report,
)
from adalora_studio.core.runs import RunFolder
from tests.core.engine_fixtures import torch_single_thread  # noqa: F401  (autouse fixture)
from tests.core.inference_fixtures import (
    finished_causal_run,
    finished_classification_run,
    stopped_classification_run,
)


@pytest.fixture(scope="module")
def cls_run(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    return finished_classification_run(tiny_bert_dir, tmp_path_factory.mktemp("cls"))


@pytest.fixture(scope="module")
def causal_run(tiny_gpt2_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return finished_causal_run(tiny_gpt2_dir, tmp_path_factory.mktemp("causal"))


def test_predict_probabilities_sum_to_one_with_the_runs_labels(cls_run) -> None:
    run_dir, _, _ = cls_run
    loaded = load_for_inference(run_dir)
    labels = RunFolder(run_dir).read_labels()
    assert loaded.source == "adapter" and list(loaded.label_names) == labels
    preds = predict(loaded, ["my card was charged twice", "the app crashes on login", "where is my parcel"])
    for p in preds:
        assert list(p.probabilities) == labels
        assert math.isclose(sum(p.probabilities.values()), 1.0, rel_tol=0, abs_tol=1e-6)
        assert p.label == max(p.probabilities, key=p.probabilities.__getitem__)
        assert p.note == ""


def test_a_long_input_is_truncated_with_a_note(cls_run) -> None:
    loaded = load_for_inference(cls_run[0])
    (p,) = predict(loaded, ["refund please " * 40])
    assert "truncated" in p.note and f"first {loaded.max_length} of" in p.note


def test_the_after_run_report_reproduces_the_runs_final_accuracy(cls_run) -> None:
    run_dir, finished, evaluation = cls_run
    first = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert first["origin"] == "after-run"
    assert first["metrics"]["accuracy"] == finished.metrics["accuracy"]
    assert first["metrics"]["macro_f1"] == pytest.approx(finished.metrics["macro_f1"], abs=1e-12)
    assert (run_dir / "report-confusion.svg").is_file() and (run_dir / "report-reliability.svg").is_file()


def test_post_hoc_evaluation_on_the_own_eval_file_reproduces_the_accuracy_and_never_overwrites(cls_run) -> None:
    run_dir, finished, evaluation = cls_run
    before = (run_dir / "report.json").read_bytes()
    report, path = evaluate_run(run_dir, evaluation)
    assert report["metrics"]["accuracy"] == finished.metrics["accuracy"]  # exactly, through the reloaded adapter
    n_rows = sum(1 for _ in csv.DictReader(evaluation.open(encoding="utf-8")))
    counts = report["confusion_matrix"]["counts"]
    assert sum(map(sum, counts)) == n_rows == report["n_rows"]
    assert sum(v["support"] for v in report["per_class"].values()) == n_rows
    assert all(math.isclose(sum(r), 1.0) for r, c in zip(report["confusion_matrix"]["normalized"], counts, strict=True)
               if sum(c))
    assert sum(b["count"] for b in report["calibration"]["bins"]) == n_rows
    assert all(m["true"] != m["predicted"] for m in report["mistakes"])
    assert path is not None and path.name != "report.json"
    assert (run_dir / "report.json").read_bytes() == before  # the first report is untouched
    _, third = evaluate_run(run_dir, evaluation)
    assert [p.name for p in report_files(run_dir)] == ["report.json", path.name, third.name]


def test_write_report_is_atomic_and_takes_the_next_free_name(tmp_path: Path) -> None:
    first = write_report(tmp_path, {"n": 1})
    second = write_report(tmp_path, {"n": 2})
    assert (first.name, second.name) == ("report.json", "report-2.json")
    assert json.loads(first.read_text())["n"] == 1 and json.loads(second.read_text())["n"] == 2
    assert not list(tmp_path.glob(".report.*"))  # no temporary file left behind

    with pytest.raises(TypeError):  # fails while serialising: nothing is written, no name is taken
        write_report(tmp_path, {"a": object()})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report-2.json", "report.json"]


def test_bad_files_name_the_file_and_column(cls_run, tmp_path: Path) -> None:
    run_dir, _, evaluation = cls_run
    other = tmp_path / "other.csv"
    other.write_text("message,category\nhello,billing\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"other\.csv.*column 'text'"):
        evaluate_run(run_dir, other, write=False)
    unseen = tmp_path / "unseen.csv"
    rows = evaluation.read_text(encoding="utf-8").splitlines()
    unseen.write_text("\n".join(rows + ["my toaster sings,appliances", "it hums,appliances", "odd,weather"]) + "\n",
                      encoding="utf-8")
    with pytest.raises(UnseenLabelsError, match=r"unseen\.csv.*column 'label'.*'appliances' \(2 rows\)") as info:
        evaluate_run(run_dir, unseen, write=False)
    assert info.value.labels == {"appliances": 2, "weather": 1}
    report, _ = evaluate_run(run_dir, unseen, known_labels_only=True, write=False)
    assert report["n_rows"] == len(rows) - 1 and report["data"]["left_out_labels"] == {"appliances": 2, "weather": 1}


def test_a_run_without_adapter_or_checkpoint_says_so(cls_run, tmp_path: Path) -> None:
    folder = RunFolder(tmp_path / "empty-run")
    folder.path.mkdir()
    folder.write_config(RunFolder(cls_run[0]).read_config())
    with pytest.raises(RunError, match="has no adapter"):
        load_for_inference(folder.path)


def test_a_stopped_run_loads_from_its_checkpoint_and_reproduces_its_eval(tiny_bert_dir: Path, tmp_path: Path) -> None:
    run_dir, last_eval, evaluation = stopped_classification_run(tiny_bert_dir, tmp_path)
    loaded = load_for_inference(run_dir)
    assert loaded.source.startswith("checkpoint step-")
    report, path = evaluate_run(run_dir, evaluation, loaded=loaded)
    assert report["metrics"]["accuracy"] == last_eval.metrics["accuracy"]
    assert report["metrics"]["eval_loss"] == pytest.approx(last_eval.eval_loss, rel=1e-5)
    assert path is not None and path.name == "report.json"  # a stopped run had no report yet


def test_the_model_cache_reuses_until_another_is_asked_for(cls_run, causal_run) -> None:
    cache = ModelCache(size=1)
    a = cache.get(cls_run[0])
    assert cache.get(cls_run[0]) is a and cache.loads == 1
    cache.get(causal_run)
    assert cache.loads == 2 and cache.loaded_paths() == [causal_run.resolve()]


def test_the_model_cache_reads_a_runs_eval_rows_once_and_drops_them_with_the_model(cls_run, causal_run) -> None:
    cache = ModelCache(size=1)
    rows = cache.eval_rows(cls_run[0])
    assert rows.texts and len(rows.labels) == len(rows.texts) and cache.row_loads == 1
    assert cache.eval_rows(cls_run[0]) is rows and cache.row_loads == 1 and cache.loads == 1
    cache.get(causal_run)  # evicts the classification run, and its rows with it
    again = cache.eval_rows(cls_run[0])
    assert cache.row_loads == 2 and cache.loads == 3 and again is not rows
    assert again.texts == rows.texts and again.labels == rows.labels


def test_streamed_generation_equals_non_streamed_greedy_generation(causal_run) -> None:
    import torch

    loaded = load_for_inference(causal_run)
    settings = GenerationSettings(max_new_tokens=20, greedy=True)
    for prompt in ("summarize the order", "write a reply to the customer"):
        ids, _ = prompt_ids(loaded, prompt, settings.max_new_tokens)
        streamed = list(stream_tokens(loaded.model, ids, settings, loaded.tokenizer.eos_token_id))
        with torch.no_grad():
            out = loaded.model.generate(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids),
                                        dtype=torch.long), max_new_tokens=20, do_sample=False,
                                        eos_token_id=loaded.tokenizer.eos_token_id)
        assert streamed == out[0, len(ids):].tolist()
        pieces: list[str] = []
        result = generate(loaded, prompt, settings, on_text=pieces.append)
        assert "".join(pieces) == result.text and list(result.token_ids) == streamed


def test_causal_report_has_loss_perplexity_and_base_vs_tuned_samples(causal_run) -> None:
    report = json.loads((causal_run / "report.json").read_text(encoding="utf-8"))
    m = report["metrics"]
    assert m["perplexity"] == pytest.approx(math.exp(m["eval_loss"]))
    events = [json.loads(x) for x in (causal_run / "events.jsonl").read_text().splitlines()]
    final_eval = [e for e in events if e.get("event") == "eval"][-1]
    assert m["eval_loss"] == pytest.approx(final_eval["eval_loss"], rel=1e-5)
    assert 1 <= len(report["samples"]) <= 3
    assert {"prompt", "reference", "base", "tuned"} <= set(report["samples"][0])


def test_stop_ends_a_generation_early(causal_run) -> None:
    from adalora_studio.core.events import StopToken

    loaded = load_for_inference(causal_run)
    stop = StopToken()
    seen: list[str] = []

    def on_text(piece: str) -> None:
        seen.append(piece)
        stop.request_stop()

    result = generate(loaded, "explain the invoice", GenerationSettings(max_new_tokens=40, greedy=False,
                                                                          temperature=1.0, top_p=1.0), stop=stop,
                      on_text=on_text)
    assert len(result.token_ids) <= 2 or result.ended == "eos"


def test_ab_partners_share_the_comparison_id(tmp_path: Path) -> None:
    from adalora_studio.core.inference import ab_partners

    def run(name: str, cid: str, method: str = "adalora") -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "run.json").write_text(json.dumps({"name": name, "comparison_id": cid, "method": method}))
        return folder

    a = run("a", "cmp-1")
    b = run("b", "cmp-1", "lora")
    run("c", "cmp-2")
    (b / "report.json").write_text("{}")
    assert ab_partners(a) == [{"name": "b", "path": str(b), "method": "lora", "report": str(b / "report.json")}]
    assert ab_partners(run("d", "")) == []
