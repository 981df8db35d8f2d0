"""Exports: merged models (from a run folder, an adapter folder or a live model) and the CLI entry points."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")

from adalora_studio.core.config import RunConfig  # noqa: E402
from adalora_studio.core.errors import ModelError  # noqa: E402
from adalora_studio.core.export import export_as_lora, export_merged  # noqa: E402
from adalora_studio.core.runs import create_run_folder  # noqa: E402
from tests.core.export_fixtures import (  # noqa: E402
    LABELS,
    TOL,
    Trained,
    logits,
    reloaded_adalora_logits,
)

# ------------------------------------------------------------------------------------------------ merged


def _run_folder_for(t: Trained, root: Path) -> Any:
    cfg = RunConfig(name="exp", task=t.task, model=t.model_cfg)
    run = create_run_folder(cfg, parent=root)
    shutil.copytree(t.adapter_dir, run.adapter_dir)
    if t.task == "text-classification":
        run.write_labels(LABELS)
    return run


@pytest.mark.parametrize("which", ["bert", "gpt2"])
def test_merged_export_from_run_folder_matches(which: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    t: Trained = request.getfixturevalue(which)
    run = _run_folder_for(t, tmp_path)
    out = export_merged(run.path)
    assert out == run.exports_dir / "merged"
    files = {p.name for p in out.iterdir()}
    assert "model.safetensors" in files and "config.json" in files and "tokenizer.json" in files
    assert not any(name.endswith(".bin") for name in files)
    auto = AutoModelForSequenceClassification if which == "bert" else AutoModelForCausalLM
    merged = auto.from_pretrained(str(out)).eval()
    assert not any("lora" in name for name, _ in merged.named_parameters())
    assert (logits(merged, t.inputs) - reloaded_adalora_logits(t)).abs().max() < TOL
    if which == "bert":
        assert merged.config.id2label == dict(enumerate(LABELS))
    assert AutoTokenizer.from_pretrained(str(out)).get_vocab()


def test_merged_export_from_adapter_folder_and_live_model(bert: Trained, tmp_path: Path) -> None:
    from transformers import AutoModelForSequenceClassification

    expected = reloaded_adalora_logits(bert)
    out = export_merged(bert.adapter_dir, tmp_path / "m1", model_cfg=bert.model_cfg)
    merged = AutoModelForSequenceClassification.from_pretrained(str(out)).eval()
    assert merged.config.num_labels == 3  # sized from the saved classifier head
    assert (logits(merged, bert.inputs) - expected).abs().max() < TOL

    before = logits(bert.model, bert.inputs)
    out_live = export_merged(bert.model, tmp_path / "m2")
    merged_live = AutoModelForSequenceClassification.from_pretrained(str(out_live)).eval()
    assert (logits(merged_live, bert.inputs) - expected).abs().max() < TOL
    assert torch.equal(logits(bert.model, bert.inputs), before)  # the live model was merged on a copy
    with pytest.raises(ModelError, match="which base model"):
        export_merged(bert.adapter_dir, tmp_path / "m3")


def test_lora_export_defaults_to_run_exports(bert: Trained, tmp_path: Path) -> None:
    run = _run_folder_for(bert, tmp_path)
    out = export_as_lora(run.path)
    assert out == run.exports_dir / "lora" and (out / "adapter_model.safetensors").is_file()
    with pytest.raises(ModelError, match="output folder"):
        export_as_lora(bert.adapter_dir)


def test_run_entry_points_for_the_cli(bert: Trained, tmp_path: Path) -> None:
    import csv

    from adalora_studio.core.errors import RunError
    from adalora_studio.core.export import export_rank_csv, export_run_as_lora

    run = _run_folder_for(bert, tmp_path)
    out = export_run_as_lora(run.path, tmp_path / "cli-lora")
    assert out == tmp_path / "cli-lora" and (out / "adapter_config.json").is_file()
    rows = list(csv.DictReader((export_rank_csv(run.path, tmp_path / "r.csv")).open()))
    assert {r["module"]: int(r["rank"]) for r in rows} == bert.ranks

    unfinished = create_run_folder(RunConfig(name="half"), parent=tmp_path)
    unfinished.write_status("stopped", step=5)
    with pytest.raises(RunError, match="no saved adapter yet .*stopped at step 5"):
        export_run_as_lora(unfinished.path, tmp_path / "x")


@pytest.mark.parametrize("which", ["bert", "gpt2"])
def test_cli_inspect_reads_an_adapter_peft_saved_itself(which: str, request: pytest.FixtureRequest,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """`adalora-studio inspect` on a folder written by peft's own save_pretrained (no run folder around it):
    one line per matrix with its full module name and its rank (a rank-0 matrix included)."""
    from adalora_studio.cli import EXIT_OK, main

    t: Trained = request.getfixturevalue(which)
    assert not (t.adapter_dir / "run.json").exists()
    assert main(["inspect", str(t.adapter_dir)]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    for module, rank in t.ranks.items():
        hits = [line for line in lines if module in line.split()]
        assert len(hits) == 1, (module, lines)
        assert str(rank) in hits[0].split(), (module, rank, hits[0])
