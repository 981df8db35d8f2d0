"""AdaLoRA as a rank finder: the exported LoraConfig loads in plain peft with the ranks found, keeps each module's
effective scale, and a LoRA model built from it has the intended parameter count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adalora_studio.cli import EXIT_OK, main
from adalora_studio.core.adalora import ADALORA_EPS, read_adapter_config, read_adapter_ranks
from adalora_studio.core.errors import ModelError
from adalora_studio.core.training import Engine
from tests.core.engine_fixtures import (
    bert_config,
    small_classification_csv,
    torch_single_thread,  # noqa: F401  (autouse fixture)
)


@pytest.fixture(scope="module")
def run_dir(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rank-finder")
    # Uneven ranks are what makes the export interesting: prune hard (init 6 -> target 2).
    cfg = bert_config(tiny_bert_dir, small_classification_csv(folder), folder / "runs",
                      budget={"init_r": 6, "target_r": 2})
    events = list(Engine(cfg).events())
    return Path(events[-1].run_dir)


def test_exported_lora_config_loads_in_peft_with_the_ranks_found(run_dir: Path, tiny_bert_dir: Path,
                                                                  tmp_path: Path) -> None:
    import yaml
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSequenceClassification

    out = tmp_path / "ranks"
    assert main(["export", str(run_dir), "--lora-config", str(out)]) == EXIT_OK
    ranks = {r.module: r for r in read_adapter_ranks(run_dir) if r.rank > 0}
    ada = read_adapter_config(run_dir / "adapter")
    scale = ada["lora_alpha"] / (ada["init_r"] + ADALORA_EPS)

    cfg = LoraConfig.from_pretrained(str(out))
    base = AutoModelForSequenceClassification.from_pretrained(str(tiny_bert_dir), num_labels=3)
    model = get_peft_model(base, cfg)
    seen = {}
    for name, module in model.named_modules():
        if hasattr(module, "lora_A") and "default" in module.lora_A:
            path = name.removeprefix("base_model.model.")
            seen[path] = module.lora_A["default"].weight.shape[0]
            assert module.scaling["default"] == pytest.approx(scale, rel=1e-9), path
    assert seen == {m: r.rank for m, r in ranks.items()}
    intended = sum(r.rank * (r.in_features + r.out_features) for r in ranks.values())
    lora_params = sum(p.numel() for n, p in model.named_parameters() if ".lora_" in n)
    assert lora_params == intended
    assert len(set(seen.values())) > 1, "the run should have found uneven ranks"

    snippet = yaml.safe_load((out / "axolotl_lora.yml").read_text(encoding="utf-8"))
    assert snippet["adapter"] == "lora" and snippet["lora_r"] == cfg.r
    assert set(snippet["lora_target_modules"]) == set(ranks)
    for module, r in ranks.items():
        assert snippet.get("lora_rank_pattern", {}).get(module, snippet["lora_r"]) == r.rank
        alpha = snippet.get("lora_alpha_pattern", {}).get(module, snippet["lora_alpha"])
        # Axolotl's schema takes positive whole-number alphas: the exact scale, rounded (the peft JSON is exact)
        assert isinstance(alpha, int) and alpha == max(1, round(scale * r.rank)), module


def test_json_file_output_and_refusals(run_dir: Path, tmp_path: Path) -> None:
    from adalora_studio.core.export import export_lora_config

    json_path, yaml_path = export_lora_config(run_dir, tmp_path / "found.json")
    assert json.loads(json_path.read_text())["peft_type"] == "LORA"
    assert yaml_path.name == "found.axolotl.yml" and yaml_path.is_file()
    lora_dir = tmp_path / "lora"
    assert main(["export", str(run_dir), "--as-lora", str(lora_dir)]) == EXIT_OK
    with pytest.raises(ModelError, match="not AdaLoRA"):
        export_lora_config(lora_dir, tmp_path / "again")
