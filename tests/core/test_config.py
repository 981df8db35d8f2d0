"""Config round-trip and every field-level validation message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adalora_studio.core.config import (
    RunConfig,
    check_config,
    commented_json,
    field_help,
    load_config,
    save_config,
    strip_json_comments,
    validate_config,
    with_section,
)
from adalora_studio.core.errors import ConfigError, ConfigErrors


def _valid() -> RunConfig:
    cfg = RunConfig(name="demo")
    return with_section(cfg, "data", train_file="data.csv")


def _fields(cfg: RunConfig) -> dict[str, str]:
    return {e.field: e.message for e in validate_config(cfg)}


def test_default_config_with_data_is_valid() -> None:
    assert validate_config(_valid()) == []
    assert check_config(_valid()) == _valid()


def test_json_round_trip_is_exact(tmp_path: Path) -> None:
    cfg = with_section(_valid(), "budget", target_modules=("query", "value"), init_r=16, target_r=4)
    cfg = with_section(cfg, "data", text_columns=("a", "b"))
    assert RunConfig.from_json(cfg.to_json()) == cfg
    path = tmp_path / "run.json"
    save_config(cfg, path)
    assert load_config(path) == cfg
    assert json.loads(path.read_text())["budget"]["target_modules"] == ["query", "value"]


def test_yaml_round_trip(tmp_path: Path) -> None:
    cfg = with_section(_valid(), "training", learning_rate=1e-4, epochs=2.5)
    path = tmp_path / "run.yaml"
    save_config(cfg, path)
    assert load_config(path) == cfg


def test_commented_json_loads_back_equal(tmp_path: Path) -> None:
    cfg = _valid()
    text = commented_json(cfg)
    assert "// Initial rank per matrix" in text
    path = tmp_path / "run.json"
    path.write_text(text)
    assert load_config(path) == cfg


def test_comment_markers_inside_strings_survive() -> None:
    text = '{"name": "a//b", // comment\n "task": "causal-lm"}'
    assert json.loads(strip_json_comments(text)) == {"name": "a//b", "task": "causal-lm"}


def test_unknown_field_suggests_the_close_one() -> None:
    with pytest.raises(ConfigErrors) as info:
        RunConfig.from_dict({"budget": {"init_rr": 4}})
    assert "budget.init_rr" in str(info.value)
    assert "did you mean 'budget.init_r'" in str(info.value)


def test_wrong_types_name_the_field() -> None:
    with pytest.raises(ConfigErrors) as info:
        RunConfig.from_dict({"training": {"batch_size": "sixteen", "epochs": True}, "data": {"text_columns": "text"}})
    fields = {e.field for e in info.value.errors}
    assert fields == {"training.batch_size", "training.epochs", "data.text_columns"}


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "name": "x",\n  "task" "causal-lm"\n}')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "bad.json" in str(info.value) and "line 3" in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.json")


def test_target_r_must_be_below_init_r() -> None:
    msg = _fields(with_section(_valid(), "budget", init_r=8, target_r=8))["budget.target_r"]
    assert "smaller than init_r (8)" in msg and "Try init_r" in msg


def test_no_budgeting_phase_in_fractions() -> None:
    msg = _fields(with_section(_valid(), "budget", tinit=0.5, tfinal=0.5))["budget.tfinal"]
    assert "no budgeting phase" in msg


@pytest.mark.parametrize(
    ("section", "changes", "field"),
    [
        ("model", {"source": "ftp"}, "model.source"),
        ("model", {"source": "folder", "path": ""}, "model.path"),
        ("model", {"source": "gguf", "path": "model.bin"}, "model.path"),
        ("data", {"train_file": ""}, "data.train_file"),
        ("data", {"format": "docx"}, "data.format"),
        ("data", {"delimiter": ":"}, "data.delimiter"),
        ("data", {"chat_format": "chatml"}, "data.chat_format"),
        ("data", {"template": "jinja"}, "data.template"),
        ("data", {"text_mode": "pages"}, "data.text_mode"),
        ("data", {"eval_fraction": 1.5}, "data.eval_fraction"),
        ("data", {"text_columns": ("a", "b", "c")}, "data.text_columns"),
        ("data", {"max_length": 2}, "data.max_length"),
        ("budget", {"budget_mode": "percent", "budget_value": 0.0}, "budget.budget_value"),
        ("budget", {"budget_mode": "percent", "budget_value": 150.0}, "budget.budget_value"),
        ("budget", {"budget_mode": "gigabytes"}, "budget.budget_mode"),
        ("budget", {"delta_t": 0}, "budget.delta_t"),
        ("budget", {"beta1": 1.0}, "budget.beta1"),
        ("budget", {"tinit": -0.1}, "budget.tinit"),
        ("budget", {"lora_dropout": 1.0}, "budget.lora_dropout"),
        ("training", {"batch_size": 0}, "training.batch_size"),
        ("training", {"grad_accum": 0}, "training.grad_accum"),
        ("training", {"learning_rate": 0.0}, "training.learning_rate"),
        ("training", {"scheduler": "step"}, "training.scheduler"),
        ("training", {"epochs": 0.0}, "training.epochs"),
        ("training", {"device": "tpu"}, "training.device"),
        ("training", {"precision": "int8"}, "training.precision"),
        ("training", {"keep_checkpoints": 0}, "training.keep_checkpoints"),
    ],
)
def test_each_field_check_names_its_field(section: str, changes: dict, field: str) -> None:
    assert field in _fields(with_section(_valid(), section, **changes))


def test_new_tasks_are_accepted_and_unknown_ones_named() -> None:
    for task in ("question-answering", "seq2seq"):
        assert "task" not in _fields(_valid().replace(task=task))
    assert "question-answering" in _fields(_valid().replace(task="translation"))["task"]


@pytest.mark.parametrize(
    ("task", "changes", "field"),
    [
        ("question-answering", {"doc_stride": 0}, "data.doc_stride"),
        ("question-answering", {"doc_stride": 64, "max_length": 128}, "data.doc_stride"),
        ("question-answering", {"max_answer_length": 0}, "data.max_answer_length"),
        ("question-answering", {"eval_metric": "rouge"}, "data.eval_metric"),
        ("seq2seq", {"eval_metric": "squad"}, "data.eval_metric"),
        ("seq2seq", {"eval_metric": "meteor"}, "data.eval_metric"),
        ("seq2seq", {"generation_eval_rows": -1}, "data.generation_eval_rows"),
        ("causal-lm", {"max_new_tokens": 0}, "data.max_new_tokens"),
    ],
)
def test_task_data_checks_name_their_field(task: str, changes: dict, field: str) -> None:
    assert field in _fields(with_section(_valid().replace(task=task), "data", **changes))


def test_check_config_raises_all_errors_at_once() -> None:
    cfg = with_section(_valid(), "training", batch_size=0, grad_accum=0)
    with pytest.raises(ConfigErrors) as info:
        check_config(cfg)
    assert len(info.value.errors) == 2


def test_field_help_is_available_for_tooltips() -> None:
    assert "init_r" in field_help("budget", "target_r")
    assert field_help("", "task")
