"""Exports: rank tables of saved adapters and AdaLoRA -> plain LoRA, checked by logits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")

from adalora_studio.core.adalora import adalora_to_lora, format_rank_table, normalize_rank_key, read_adapter_ranks  # noqa: E402,E501
from adalora_studio.core.config import ModelConfig  # noqa: E402
from adalora_studio.core.errors import ModelError  # noqa: E402
from adalora_studio.core.export import export_as_lora, inspect_adapter, publish_dir  # noqa: E402
from tests.core.export_fixtures import (  # noqa: E402
    INIT_R,
    TARGET_R,
    TOL,
    Trained,
    fresh_base,
    logits,
    reloaded_adalora_logits,
)

# ------------------------------------------------------------------------------------------------ ranks


def test_setup_really_masks_triplets(bert: Trained, gpt2: Trained) -> None:
    for t in (bert, gpt2):
        assert t.natural_total == TARGET_R * len(t.ranks)  # final budget reached
        assert len(t.ranks) == 4
    assert gpt2.zero_module is not None and gpt2.ranks[gpt2.zero_module] == 0


@pytest.mark.parametrize("which", ["bert", "gpt2"])
def test_read_adapter_ranks_equals_rank_pattern(which: str, request: pytest.FixtureRequest) -> None:
    t: Trained = request.getfixturevalue(which)
    rows = read_adapter_ranks(t.adapter_dir)
    assert {r.module: r.rank for r in rows} == t.ranks
    assert all(r.init_r == INIT_R for r in rows)
    assert [r.module for r in rows] == sorted(t.ranks)  # natural order (single-digit layers here)
    first = next(r for r in rows if r.rank > 0)
    assert first.in_features == 32 and first.out_features in (32, 96, 64)
    assert first.params == first.rank * (first.in_features + first.out_features + 1)


def test_read_adapter_ranks_normalises_live_keys_and_run_folders(bert: Trained, tmp_path: Path) -> None:
    copy_dir = tmp_path / "run" / "adapter"
    shutil.copytree(bert.adapter_dir, copy_dir)
    cfg_file = copy_dir / "adapter_config.json"
    data = json.loads(cfg_file.read_text())
    data["rank_pattern"] = {k + ".default": v for k, v in data["rank_pattern"].items()}
    cfg_file.write_text(json.dumps(data))
    assert {r.module: r.rank for r in read_adapter_ranks(copy_dir)} == bert.ranks
    assert {r.module: r.rank for r in read_adapter_ranks(tmp_path / "run")} == bert.ranks


def test_null_rank_pattern_means_init_r_everywhere(tiny_bert_dir: Path, tmp_path: Path) -> None:
    from peft import AdaLoraConfig, TaskType, get_peft_model

    base = fresh_base(ModelConfig(source="folder", path=str(tiny_bert_dir)), "text-classification", 0)
    model = get_peft_model(base, AdaLoraConfig(task_type=TaskType.SEQ_CLS, init_r=6, target_r=3, total_step=10,
                                               target_modules=["key"]))
    model.save_pretrained(str(tmp_path / "a"))
    assert json.loads((tmp_path / "a" / "adapter_config.json").read_text())["rank_pattern"] is None
    rows = read_adapter_ranks(tmp_path / "a")
    assert [(r.module, r.rank, r.init_r) for r in rows] == [
        (f"bert.encoder.layer.{i}.attention.self.key", 6, 6) for i in (0, 1)
    ]


def test_format_rank_table(gpt2: Trained) -> None:
    text = format_rank_table(read_adapter_ranks(gpt2.adapter_dir))
    lines = text.splitlines()
    assert lines[0].split() == ["module", "rank", "init_r", "kept", "params"]
    assert len({len(line) for line in lines if line.startswith("-")}) == 1
    for module, rank in gpt2.ranks.items():
        row = next(line for line in lines if line.startswith(module + " "))
        assert row.split()[1:3] == [str(rank), str(INIT_R)]
    total = lines[-1]
    zeros = sum(1 for r in gpt2.ranks.values() if r == 0)
    assert total.startswith(f"total (4 matrices, {zeros} at rank 0)")
    assert total.split(")")[1].split()[:2] == [str(sum(gpt2.ranks.values())), str(4 * INIT_R)]
    assert "ADALORA" in inspect_adapter(gpt2.adapter_dir)


def test_read_adapter_ranks_errors(bert: Trained, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        read_adapter_ranks(tmp_path / "missing")
    with pytest.raises(ModelError, match="adapter_config.json"):
        read_adapter_ranks(tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(bert.adapter_dir, broken)
    (broken / "adapter_model.safetensors").write_bytes(b"\xff" * 16)
    with pytest.raises(ModelError, match="adapter_model.safetensors: not a readable safetensors file"):
        read_adapter_ranks(broken)


# -------------------------------------------------------------------------------------------- LoRA export


@pytest.mark.parametrize("which", ["bert", "gpt2"])
def test_lora_export_matches_adalora_logits(which: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    from peft import PeftModel
    from peft.tuners.lora import LoraLayer

    t: Trained = request.getfixturevalue(which)
    expected = reloaded_adalora_logits(t)
    assert (expected - logits(t.model, t.inputs)).abs().max() < TOL  # live model == saved adapter

    out = export_as_lora(t.adapter_dir, tmp_path / "lora")
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA"
    assert config["fan_in_fan_out"] is (which == "gpt2")
    if which == "bert":
        assert config["modules_to_save"] == ["classifier", "score"]

    lora = PeftModel.from_pretrained(fresh_base(t.model_cfg, t.task, seed=11), str(out)).eval()
    assert lora.peft_config["default"].peft_type.value == "LORA"
    layers = {name.removeprefix("base_model.model."): m for name, m in lora.named_modules()
              if isinstance(m, LoraLayer)}
    assert {name: m.r["default"] for name, m in layers.items()} == {m: r for m, r in t.ranks.items() if r > 0}
    assert (logits(lora, t.inputs) - expected).abs().max() < TOL

    # Merging the LoRA (Conv1D transposes here) gives the same model too.
    merged = lora.merge_and_unload()
    assert (logits(merged, t.inputs) - expected).abs().max() < TOL


def test_rank_zero_module_is_left_out(gpt2: Trained, tmp_path: Path) -> None:
    out = export_as_lora(gpt2.adapter_dir, tmp_path / "lora")
    config = json.loads((out / "adapter_config.json").read_text())
    assert gpt2.zero_module not in config["target_modules"]
    assert len(config["target_modules"]) == sum(1 for r in gpt2.ranks.values() if r > 0)
    ranks = read_adapter_ranks(out)
    assert {r.module: r.rank for r in ranks} == {m: r for m, r in gpt2.ranks.items() if r > 0}
    assert all(r.method == "lora" for r in ranks)


def test_uniform_rank_pads_with_zeros(bert: Trained, tmp_path: Path) -> None:
    from peft import PeftModel
    from safetensors.torch import load_file

    out = export_as_lora(bert.adapter_dir, tmp_path / "lora", uniform_rank=True)
    config = json.loads((out / "adapter_config.json").read_text())
    r_max = max(bert.ranks.values())
    assert config["rank_pattern"] == {} and config["r"] == r_max and config["lora_alpha"] == r_max
    tensors = load_file(str(out / "adapter_model.safetensors"))
    assert {t.shape[0] for k, t in tensors.items() if k.endswith("lora_A.weight")} == {r_max}
    lora = PeftModel.from_pretrained(fresh_base(bert.model_cfg, bert.task, seed=3), str(out)).eval()
    assert (logits(lora, bert.inputs) - reloaded_adalora_logits(bert)).abs().max() < TOL


def test_export_from_live_model_equals_folder_and_leaves_model_alone(bert: Trained, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    live_config = bert.model.peft_config["default"]
    # save_pretrained in the fixture stripped ".default" from the live keys; put back the form training uses.
    live_config.rank_pattern = {
        normalize_rank_key(k) + ".lora_E.default": v for k, v in live_config.rank_pattern.items()}
    keys_before = sorted(live_config.rank_pattern)
    out_live = export_as_lora(bert.model, tmp_path / "live")
    assert sorted(live_config.rank_pattern) == keys_before
    out_dir = export_as_lora(bert.adapter_dir, tmp_path / "dir")
    a, b = load_file(str(out_live / "adapter_model.safetensors")), load_file(str(out_dir / "adapter_model.safetensors"))
    assert a.keys() == b.keys()
    assert {k: float((a[k] - b[k]).abs().max()) for k in a if not torch.equal(a[k], b[k])} == {}


def test_full_size_tensors_with_rank_pattern_are_sliced() -> None:
    torch.manual_seed(0)
    q, e, p = torch.randn(3, 5), torch.randn(3, 1), torch.randn(4, 3)
    config = {"peft_type": "ADALORA", "init_r": 3, "lora_alpha": 6, "rank_pattern": {"m.lora_E": [True, False, True]}}
    tensors = {"base_model.model.m.lora_A": q, "base_model.model.m.lora_E": e, "base_model.model.m.lora_B": p}
    kwargs, out = adalora_to_lora(config, tensors)
    a, b = out["base_model.model.m.lora_A.weight"], out["base_model.model.m.lora_B.weight"]
    assert a.shape == (2, 5) and b.shape == (4, 2) and kwargs["r"] == 2 == kwargs["lora_alpha"]
    x = torch.randn(7, 5)
    keep = torch.tensor([True, False, True])
    ada = x @ (q * e)[keep].T @ p[:, keep].T * 6 / (3 + 1e-5)
    lora = x @ a.T @ b.T * kwargs["lora_alpha"] / kwargs["r"]
    assert torch.allclose(ada, lora, atol=1e-6)
    config["rank_pattern"] = {"m.lora_E": [False, False, False]}
    with pytest.raises(ModelError, match="rank 0"):
        adalora_to_lora(config, tensors)


def test_a_lora_adapter_exports_as_itself(bert: Trained, tmp_path: Path) -> None:
    """A LoRA adapter (what a LoRA baseline run saves) is copied unchanged, not converted again."""
    from safetensors.torch import load_file

    out = export_as_lora(bert.adapter_dir, tmp_path / "lora")
    again = export_as_lora(out, tmp_path / "again")
    first = load_file(str(out / "adapter_model.safetensors"))
    second = load_file(str(again / "adapter_model.safetensors"))
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)
    assert json.loads((again / "adapter_config.json").read_text())["peft_type"] == "LORA"


def test_publish_dir_protects_foreign_folders_and_replaces_exports(tmp_path: Path) -> None:
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("precious")
    with pytest.raises(ModelError, match="other files"):
        publish_dir(lambda d: (d / "adapter_config.json").write_text("{}"), foreign)
    assert (foreign / "thesis.txt").read_text() == "precious"

    out = tmp_path / "export"
    publish_dir(lambda d: (d / "adapter_config.json").write_text("1"), out)
    publish_dir(lambda d: (d / "adapter_config.json").write_text("2"), out)
    assert (out / "adapter_config.json").read_text() == "2"

    def fail(d: Path) -> None:
        (d / "adapter_config.json").write_text("3")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        publish_dir(fail, out)
    assert (out / "adapter_config.json").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "home"]  # no staging left behind
    with pytest.raises(ModelError, match="holds the adapter"):
        publish_dir(lambda d: None, out, protect=out)
