"""Schedule advice with one-click fixes, the paper recipe scaled to a run's length, validate for LoRA runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from adalora_studio.cli import main
from adalora_studio.core.adalora import apply_fix, make_plan, mask_steps, paper_recipe_fix, schedule_advice
from adalora_studio.core.config import paper_recipe, save_config, with_section
from adalora_studio.core.model import describe_model
from tests.core.engine_fixtures import bert_config, small_classification_csv


@pytest.fixture()
def cfg(tiny_bert_dir: Path, tmp_path: Path):
    return bert_config(tiny_bert_dir, tmp_path / "t.csv", tmp_path)


def _plan(cfg):
    return make_plan(cfg, 54, describe_model(cfg.model, cfg.task, 5))


def test_a_sound_schedule_gets_no_advice(cfg) -> None:
    good = with_section(with_section(cfg, "training", max_steps=400), "budget", tinit=0.1, tfinal=0.4, delta_t=8)
    assert schedule_advice(good, _plan(good)) == []


def test_each_problem_is_named_with_its_reason_and_its_fix_removes_it(cfg) -> None:
    bad = with_section(with_section(cfg, "training", max_steps=40), "budget", tinit=0.3, tfinal=0.4, delta_t=5)
    advice = {a.code: a for a in schedule_advice(bad, _plan(bad))}
    assert set(advice) == {"budgeting_share", "few_steps", "few_mask_steps"}
    assert "12 of 40 steps (30%)" in advice["budgeting_share"].message and "half" in advice["budgeting_share"].message
    assert "only 40 optimizer steps" in advice["few_steps"].message
    assert "3 mask steps" in advice["few_mask_steps"].message
    fixed = bad
    for a in advice.values():
        fixed = apply_fix(fixed, a.fix)
    assert schedule_advice(fixed, _plan(fixed)) == []
    assert fixed.budget.tinit == 0.1 and fixed.budget.tfinal == 0.4 and fixed.training.max_steps == 100


def test_the_paper_recipe_scales_to_the_run_and_passes_the_advice(cfg) -> None:
    for steps in (100, 1000, 20000):
        run = with_section(cfg, "training", max_steps=steps)
        recipe = paper_recipe(run.budget, steps)
        assert (recipe.tinit, recipe.tfinal, recipe.target_r, recipe.init_r) == (0.1, 0.4, 2, 3)
        assert recipe.delta_t == min(100, round(steps / 2 / 25))
        fixed = apply_fix(run, paper_recipe_fix(run, _plan(run)))
        plan = _plan(fixed)
        assert schedule_advice(fixed, plan) == [] and mask_steps(plan) >= 10


def test_lora_runs_get_no_schedule_advice_and_validate_shows_the_matched_rank(
        tiny_bert_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = bert_config(tiny_bert_dir, small_classification_csv(tmp_path), tmp_path / "runs", max_steps=20)
    lora = base.replace(method="lora")
    assert schedule_advice(lora, _plan(lora)) == []
    save_config(lora, tmp_path / "lora.json")
    assert main(["validate", str(tmp_path / "lora.json")]) == 0
    out = capsys.readouterr().out
    assert "LoRA baseline, uniform rank 2 on 4 matrices" in out and "matched to AdaLoRA's 520" in out
    save_config(base, tmp_path / "adalora.json")
    assert main(["validate", str(tmp_path / "adalora.json")]) == 0
    out = capsys.readouterr().out
    assert "Advice:" in out and "only 20 optimizer steps" in out
