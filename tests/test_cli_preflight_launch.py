"""The CLI's dry run (validate --dry-run) and cluster hand-off (export-launch) on a tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest

from adalora_studio.cli import EXIT_OK, main
from adalora_studio.core.config import load_config, save_config
from tests.core.engine_fixtures import bert_config, small_classification_csv


@pytest.fixture()
def config_file(tiny_bert_dir: Path, tmp_path: Path) -> Path:
    cfg = bert_config(tiny_bert_dir, small_classification_csv(tmp_path), tmp_path / "runs", max_steps=12)
    path = tmp_path / "run.json"
    save_config(cfg, path)
    return path


def test_validate_dry_run_measures_and_leaves_no_run(config_file: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(config_file), "--dry-run", "--steps", "3"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "OK: the config is valid." in out and "Measured: 3 optimizer steps on cpu" in out
    assert "Projected:" in out and "for 12 optimizer steps" in out and "Fits in memory: yes" in out
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_export_launch_writes_the_hand_off_files(config_file: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "hand-off"
    assert main(["export-launch", str(config_file), str(out_dir), "--processes", "2", "--nodes", "2"]) == EXIT_OK
    assert sorted(p.name for p in out_dir.iterdir()) == ["accelerate_config.yaml", "launch.sh", "run.json",
                                                         "slurm.sbatch"]
    assert load_config(out_dir / "run.json").training.max_steps == 12
    assert "2 CPU processes (torchrun, gloo)" in capsys.readouterr().out
    assert "#SBATCH --nodes=2" in (out_dir / "slurm.sbatch").read_text()
