"""run.json upgrades keyed on schema_version: the chain runs in order; older, newer and odd versions are named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adalora_studio.core.config import (
    FIRST_SCHEMA_VERSION,
    MIGRATIONS,
    SCHEMA_VERSION,
    RunConfig,
    load_config,
    migrate,
    save_config,
)
from adalora_studio.core.errors import ConfigError
from adalora_studio.core.runs import create_run_folder


def test_the_current_format_passes_through_unchanged() -> None:
    assert FIRST_SCHEMA_VERSION == 1 and sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION))
    data = RunConfig(name="now").to_dict()
    assert migrate(data) == data and migrate(data) is not data
    no_version = {k: v for k, v in data.items() if k != "schema_version"}
    assert RunConfig.from_dict(no_version).name == "now"


def test_steps_run_in_order_up_to_the_current_version() -> None:
    def rename_lr(d: dict) -> dict:  # v1 -> v2: a renamed field
        d["training"]["learning_rate"] = d["training"].pop("lr")  # steps may change the dict they are given
        return d

    def add_section(d: dict) -> dict:  # v2 -> v3: a new section with its default
        return {**d, "extras": {}}

    old = {"schema_version": 1, "name": "old", "training": {"lr": 0.01}}
    out = migrate(old, "old.json", current=3, migrations={1: rename_lr, 2: add_section})
    assert out == {"schema_version": 3, "name": "old", "training": {"learning_rate": 0.01}, "extras": {}}
    assert old == {"schema_version": 1, "name": "old", "training": {"lr": 0.01}}  # the input is untouched
    with pytest.raises(ConfigError, match="no upgrade from config format 2 to 3"):
        migrate(old, "old.json", current=3, migrations={1: rename_lr})


@pytest.mark.parametrize(("version", "words"), [
    (SCHEMA_VERSION + 1, f"written by a newer AdaLoRA Studio (config format {SCHEMA_VERSION + 1})"),
    (0, "config format 0 was never written by AdaLoRA Studio"),
    ("1", f"must be a whole number such as {SCHEMA_VERSION}, not '1'"),
])
def test_versions_it_cannot_read_are_named_with_the_file(tmp_path: Path, version: object, words: str) -> None:
    path = tmp_path / "run.json"
    save_config(RunConfig(name="x"), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["schema_version"] = version
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.field == "schema_version"
    assert str(path) in str(info.value) and words in str(info.value)


def test_a_run_folder_from_a_newer_version_says_so(tmp_path: Path) -> None:
    folder = create_run_folder(RunConfig(name="future"), parent=tmp_path)
    data = json.loads(folder.run_json.read_text(encoding="utf-8"))
    folder.run_json.write_text(json.dumps({**data, "schema_version": 7, "new_section": {}}), encoding="utf-8")
    with pytest.raises(ConfigError, match="newer AdaLoRA Studio"):
        folder.read_config()


def test_a_format_1_causal_lm_run_keeps_the_plain_rendering_it_trained_with(tmp_path: Path) -> None:
    """Format 1 joined prompt + newline + response; format 2 defaults to the tokenizer's chat template. An old
    run must resume (and be evaluated) on the text it was trained on, so its upgrade pins template = plain."""
    path = tmp_path / "run.json"
    save_config(RunConfig(name="old-lm", task="causal-lm"), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["schema_version"] = 1
    del data["data"]["template"]
    path.write_text(json.dumps(data), encoding="utf-8")
    cfg = load_config(path)
    assert cfg.data.template == "plain" and cfg.schema_version == SCHEMA_VERSION
    data["task"] = "text-classification"  # classification never rendered text: nothing to pin
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_config(path).data.template == "auto"
    assert RunConfig(task="causal-lm").data.template == "auto"  # new runs use the chat template when there is one
