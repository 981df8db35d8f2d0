"""One rule for "Try init_r = N": the CLI's ``validate`` and the wizard's budget page suggest the same fix."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from adalora_studio.cli import EXIT_INVALID, main
from adalora_studio.core.config import ModelConfig, save_config, suggested_init_r, validate_config, with_section
from adalora_studio.core.errors import ConfigErrors
from adalora_studio.core.model import describe_model
from adalora_studio.gui.wizard.budget import compute_plan
from tests.core.engine_fixtures import bert_config, small_classification_csv

TRY = re.compile(r"Try init_r = (\d+)")


@pytest.mark.parametrize("target_r", [1, 2, 3, 5, 7, 8, 13])
def test_rule(target_r: int) -> None:
    assert suggested_init_r(target_r) == max(target_r + 1, math.ceil(1.5 * target_r))


def test_cli_and_wizard_suggest_the_same_init_r(tmp_path: Path, tiny_bert_dir: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    base = bert_config(tiny_bert_dir, small_classification_csv(tmp_path), tmp_path / "runs")
    info = describe_model(ModelConfig(source="folder", path=str(tiny_bert_dir)), "text-classification")
    for target_r in (3, 5, 7, 9):  # odd: round(1.5 r) and ceil(1.5 r) used to differ (3 -> "4" vs "5")
        cfg = with_section(base, "budget", init_r=target_r, target_r=target_r)
        path = tmp_path / "run.json"
        save_config(cfg, path)
        assert main(["validate", str(path)]) == EXIT_INVALID
        cli = TRY.findall(capsys.readouterr().err)
        with pytest.raises(ConfigErrors) as wizard:  # the budget page's live plan
            compute_plan(cfg, 54, info)
        review = [m for e in validate_config(cfg) for m in TRY.findall(e.message)]  # the review page
        expected = str(suggested_init_r(target_r))
        assert cli and set(cli) == {expected}, cli
        assert TRY.findall(str(wizard.value)) == [expected]
        assert review == [expected]
