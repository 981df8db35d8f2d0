"""Closing the rank-finder loop: a LoRA run started from an exported LoraConfig (``lora.rank_file``) trains with
the file's per-module ranks and alphas, reports the parameter count those ranks hold, and refuses bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adalora_studio.core.adalora import make_plan
from adalora_studio.core.config import check_config, with_section
from adalora_studio.core.errors import ConfigErrors
from adalora_studio.core.events import Finished, RanksUpdated, RunStarted
from adalora_studio.core.export import export_lora_config
from adalora_studio.core.model import describe_model
from adalora_studio.core.training import Engine, validate_run
from tests.core.engine_fixtures import (
    bert_config,
    small_classification_csv,
    torch_single_thread,  # noqa: F401  (autouse fixture)
)


@pytest.fixture(scope="module")
def found(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the exported adapter_config.json, the training CSV) of a short AdaLoRA run pruning 6 -> 2."""
    folder = tmp_path_factory.mktemp("rank-file")
    data = small_classification_csv(folder)
    cfg = bert_config(tiny_bert_dir, data, folder / "runs", budget={"init_r": 6, "target_r": 2})
    events = list(Engine(cfg).events())
    assert isinstance(events[-1], Finished), events[-1]
    json_path, _ = export_lora_config(Path(events[-1].run_dir), folder / "ranks")
    return json_path, data


def _lora_cfg(tiny_bert_dir: Path, data: Path, out: Path, rank_file: str, **training):
    cfg = bert_config(tiny_bert_dir, data, out, **training).replace(method="lora")
    return with_section(cfg, "lora", rank_file=rank_file)


def _intended(file: dict, plan) -> dict[str, tuple[int, float]]:
    """Each adapted module's (rank, alpha) read from the file by hand: the default unless a pattern names it."""
    out = {}
    for module in file["target_modules"]:
        out[module] = (file.get("rank_pattern", {}).get(module, file["r"]),
                       file.get("alpha_pattern", {}).get(module, file["lora_alpha"]))
    assert set(out) == {m.module for m in plan.targets}
    return out


def test_a_lora_run_from_the_exported_file_has_its_ranks_and_parameter_count(
        found: tuple[Path, Path], tiny_bert_dir: Path, tmp_path: Path) -> None:
    json_path, data = found
    file = json.loads(json_path.read_text(encoding="utf-8"))
    cfg = _lora_cfg(tiny_bert_dir, data, tmp_path, str(json_path.parent), max_steps=4)  # the folder form
    engine = Engine(cfg)
    events = list(engine.events())
    assert isinstance(events[-1], Finished), getattr(events[-1], "message", events[-1])
    plan = engine.session.plan
    intended = _intended(file, plan)
    assert len({r for r, _ in intended.values()}) > 1, "the AdaLoRA run should have found uneven ranks"

    seen: dict[str, tuple[int, float]] = {}
    dims: dict[str, int] = {}
    for name, module in engine.session.peft_model.named_modules():
        if hasattr(module, "lora_A") and "default" in module.lora_A:
            path = name.removeprefix("base_model.model.")
            r = module.lora_A["default"].weight.shape[0]
            seen[path] = (r, module.scaling["default"] * r)  # scaling = alpha / r
            dims[path] = module.in_features + module.out_features
    assert {m: r for m, (r, _) in seen.items()} == {m: r for m, (r, _) in intended.items()}
    for m, (_, alpha) in intended.items():
        assert seen[m][1] == pytest.approx(alpha, rel=1e-9), m
    count = sum(r * dims[m] for m, (r, _) in intended.items())
    adapter = sum(p.numel() for n, p in engine.session.peft_model.named_parameters()
                  if p.requires_grad and ".lora_" in n)
    assert adapter == count
    started = next(e for e in events if isinstance(e, RunStarted))
    assert plan.trainable_init == started.trainable_init == started.trainable_target == count
    assert started.n_matrices == len(intended) and started.init_r == max(r for r, _ in intended.values())
    snapshots = [e for e in events if isinstance(e, RanksUpdated)]
    assert snapshots and all({m.module: m.rank for m in e.matrices} == {m: r for m, (r, _) in intended.items()}
                             for e in snapshots)
    assert snapshots[-1].total_rank == sum(r for r, _ in intended.values())
    lines = "\n".join(validate_run(cfg).lines())
    assert "lora.rank_file" in lines and f"{count:,} parameters" in lines


def _plan(tiny_bert_dir: Path, tmp_path: Path, file: object, **lora):
    path = tmp_path / "ranks.json"
    path.write_text(file if isinstance(file, str) else json.dumps(file), encoding="utf-8")
    cfg = _lora_cfg(tiny_bert_dir, tmp_path / "unused.csv", tmp_path, str(path))
    cfg = with_section(cfg, "lora", **lora) if lora else cfg
    return make_plan(check_config(cfg), 64, describe_model(cfg.model, cfg.task, num_labels=3)), path


def _targets(tiny_bert_dir: Path) -> list[str]:
    cfg = bert_config(tiny_bert_dir, Path("x.csv"), Path(".")).replace(method="lora")
    return [m.module for m in make_plan(cfg, 64, describe_model(cfg.model, cfg.task, num_labels=3)).targets]


def _refusal(tiny_bert_dir: Path, tmp_path: Path, file: object) -> str:
    with pytest.raises(ConfigErrors) as info:
        _plan(tiny_bert_dir, tmp_path, file)
    [error] = info.value.errors
    assert error.field == "lora.rank_file" and str(tmp_path / "ranks.json") in error.message
    return error.message


def test_bad_rank_files_are_refused_naming_the_file_and_the_field(tiny_bert_dir: Path, tmp_path: Path) -> None:
    targets = _targets(tiny_bert_dir)  # layer 0/1 x query/value
    good = {"peft_type": "LORA", "r": 2, "lora_alpha": 4.0, "target_modules": targets}
    missing = _lora_cfg(tiny_bert_dir, tmp_path / "d.csv", tmp_path, str(tmp_path / "no.json"))
    with pytest.raises(ConfigErrors) as info:
        make_plan(check_config(missing), 64, describe_model(missing.model, missing.task, num_labels=3))
    assert info.value.errors[0].field == "lora.rank_file"
    assert f"{tmp_path / 'no.json'} does not exist" in info.value.errors[0].message
    assert "cannot be read as JSON" in _refusal(tiny_bert_dir, tmp_path, "{not json")
    assert "not a LoRA config" in _refusal(tiny_bert_dir, tmp_path, {**good, "peft_type": "ADALORA"})
    assert "'r' must be a positive" in _refusal(tiny_bert_dir, tmp_path, {**good, "r": 0})
    stray = {**good, "target_modules": [*targets, "bert.encoder.layer.7.attention.self.query"]}
    message = _refusal(tiny_bert_dir, tmp_path, stray)
    assert "not targets of this run" in message and "layer.7" in message
    only_query = {**good, "target_modules": [t for t in targets if t.endswith("query")]}
    message = _refusal(tiny_bert_dir, tmp_path, only_query)
    assert "no rank for the 2 target matrices of type value" in message
    assert "not a positive whole number" in _refusal(tiny_bert_dir, tmp_path,
                                                     {**good, "rank_pattern": {targets[0]: 1.5}})

    with pytest.raises(ConfigErrors) as info:  # config checks: the field only means something for LoRA runs
        check_config(_lora_cfg(tiny_bert_dir, tmp_path / "d.csv", tmp_path, "x.json").replace(method="adalora"))
    assert [e.field for e in info.value.errors] == ["lora.rank_file"]
    with pytest.raises(ConfigErrors, match="both set the ranks"):
        _plan(tiny_bert_dir, tmp_path, good, r=3)


def test_a_target_pruned_to_rank_zero_is_left_out_with_a_warning(tiny_bert_dir: Path, tmp_path: Path) -> None:
    targets = _targets(tiny_bert_dir)
    kept = targets[:-1]  # AdaLoRA pruned the last value matrix to rank 0, so the export left it out
    file = {"peft_type": "LORA", "r": 2, "lora_alpha": 4.0, "target_modules": kept,
            "rank_pattern": {kept[0]: 5}, "alpha_pattern": {kept[0]: 10.0}}
    plan, path = _plan(tiny_bert_dir, tmp_path, file)
    assert [m.module for m in plan.targets] == kept
    assert plan.lora_ranks == (5, 2, 2) and plan.lora_alphas == (10.0, 4.0, 4.0)
    assert plan.trainable_init == (5 + 2 + 2) * (32 + 32)
    assert any("lora.rank_file" in w and str(path) in w and "unadapted" in w for w in plan.warnings)
