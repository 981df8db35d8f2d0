"""The headless CLI end to end on a tiny model: init-config, validate, train, inspect, export, resume, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adalora_studio.cli import EXIT_INVALID, EXIT_OK, build_parser, main
from adalora_studio.core.config import ModelConfig, load_config, save_config, with_section
from tests.core.engine_fixtures import bert_config, small_classification_csv

SUBCOMMANDS = ("launch", "demo", "train", "validate", "inspect", "export", "init-config", "runs",
               "install-desktop", "uninstall-desktop", "evaluate", "predict", "generate", "png", "export-launch", "ab",
               "compare")


def test_help_documents_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out
    assert set(build_parser()._subparsers._group_actions[0].choices) == set(SUBCOMMANDS)  # type: ignore[union-attr]


def test_readme_command_table_matches_the_parser() -> None:
    """Every subcommand and every export mode of `adalora-studio --help` has a row in README's command table, and
    the table names no command the parser lacks."""
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| `adalora-studio")]
    cells = " ".join(line.split("|")[1] for line in rows)
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    named = set(re.findall(r"`adalora-studio ([a-z][a-z-]*)", cells)) | set(re.findall(r"/ `([a-z][a-z-]*)`", cells))
    assert named == set(commands)
    export_modes = {a.option_strings[-1] for a in commands["export"]._actions
                    if a.option_strings and a.option_strings[-1] != "--help"}
    for mode in export_modes:
        assert f"export RUN_DIR {mode}" in cells, mode


def test_init_config_writes_a_commented_config_that_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run.json"
    assert main(["init-config", str(path)]) == EXIT_OK
    assert path.read_text().startswith("//")
    cfg = load_config(path)
    assert cfg.task == "text-classification"
    assert main(["init-config", str(path)]) == EXIT_INVALID  # refuses to overwrite
    assert "--force" in capsys.readouterr().err


def test_validate_reports_rows_labels_ranks_and_steps(tmp_path: Path, tiny_bert_dir: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    cfg = bert_config(tiny_bert_dir, small_classification_csv(tmp_path), tmp_path / "runs")
    path = tmp_path / "run.json"
    save_config(cfg, path)
    assert main(["validate", str(path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "54 training rows, 18 evaluation rows" in out
    assert "Labels:  5:" in out
    assert "16 optimizer steps" in out
    assert "init_r 4 -> target_r 2" in out
    assert "Doctor:  54 of 54 training rows measured" in out and "suggested max_length" in out
    assert "Overlap: 0 evaluation rows also occur in the training rows" in out
    for label in ("account", "billing", "feedback", "shipping", "technical"):
        assert label in out
    from adalora_studio.core.training import validate_run

    plan = validate_run(cfg).plan  # parameter counts at init_r and target_r, as numbers and percentages
    params_line = next(line for line in out.splitlines() if line.startswith("Trainable adapter:"))
    assert f"{100 * plan.trainable_init / plan.model_params:.3g}%" in params_line
    assert "OK: the config is valid." in out

    save_config(with_section(cfg, "budget", tfinal=0.0), path)  # one plan warning, printed once
    assert main(["validate", str(path)]) == EXIT_OK
    assert capsys.readouterr().out.count("Warning: budget.tfinal is 0 steps") == 1


def test_validate_fails_with_field_named_messages(tmp_path: Path, tiny_bert_dir: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    cfg = bert_config(tiny_bert_dir, small_classification_csv(tmp_path), tmp_path / "runs")
    cfg = with_section(cfg, "budget", init_r=2, target_r=2)
    path = tmp_path / "run.json"
    save_config(cfg, path)
    assert main(["validate", str(path)]) == EXIT_INVALID
    assert "budget.target_r" in capsys.readouterr().err

    cfg = with_section(cfg, "budget", init_r=4, target_modules=("nonexistent",))
    save_config(cfg, path)
    assert main(["validate", str(path)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "budget.target_modules" in err and "query" in err

    cfg = with_section(cfg, "budget", target_modules=("query",))
    cfg = with_section(cfg, "data", train_file=str(tmp_path / "missing.csv"))
    save_config(cfg, path)
    assert main(["validate", str(path)]) == EXIT_INVALID
    assert "missing.csv" in capsys.readouterr().err


def test_train_inspect_export(tmp_path: Path, tiny_bert_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = bert_config(tiny_bert_dir, small_classification_csv(tmp_path), tmp_path / "runs", max_steps=8)
    path = tmp_path / "run.json"
    save_config(cfg, path)
    assert main(["train", str(path), "--quiet"]) == EXIT_OK
    out = capsys.readouterr().out
    run_dir = Path(out.split("Run:")[1].splitlines()[0].strip())
    assert (run_dir / "adapter" / "adapter_config.json").exists()
    assert (run_dir / "plots" / "rank_heatmap.svg").exists()
    for name in ("report-confusion", "report-reliability", "plots/loss", "plots/rank_heatmap"):  # PNG twins
        assert (run_dir / f"{name}.png").read_bytes()[:4] == b"\x89PNG", name
        assert f"PNG:     {run_dir / name}.png" in out

    assert main(["inspect", str(run_dir)]) == EXIT_OK
    table = capsys.readouterr().out
    ranks = json.loads((run_dir / "ranks.json").read_text())
    rows = ranks["matrices"] if isinstance(ranks, dict) else ranks
    for row in rows:
        assert row["module"] in table

    assert main(["export", str(run_dir), "--as-lora", str(tmp_path / "lora")]) == EXIT_OK
    lora_cfg = json.loads((tmp_path / "lora" / "adapter_config.json").read_text())
    assert lora_cfg["peft_type"] == "LORA"

    assert main(["runs", "--dir", str(tmp_path / "runs")]) == EXIT_OK
    assert "finished" in capsys.readouterr().out


def test_train_without_config_or_resume(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train"]) == EXIT_INVALID
    assert "--resume" in capsys.readouterr().err


def test_resume_of_a_folder_that_is_not_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--resume", str(tmp_path)]) == EXIT_INVALID
    assert "not a run folder" in capsys.readouterr().err


def test_launch_without_a_display_says_so_and_runs_the_demo(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """What `make run` calls: no display -> a notice, then the headless demo; a display -> the window."""
    import sys

    import adalora_studio.cli as cli

    calls: list[str] = []
    monkeypatch.setattr(cli, "cmd_demo", lambda args: calls.append(f"demo:{args.task}:{args.max_steps}") or EXIT_OK)
    monkeypatch.setattr(cli, "open_app", lambda **kwargs: calls.append("app") or EXIT_OK)
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert main(["launch"]) == EXIT_OK
    assert calls == ["demo:text-classification:0"] and "No display found" in capsys.readouterr().out

    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setenv("DISPLAY", ":0")
    assert main(["launch"]) == EXIT_OK
    assert calls[-1] == "app"


def test_init_config_from_a_compressed_semicolon_file_validates(tmp_path: Path, tiny_bert_dir: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import gzip

    data = tmp_path / "tickets.csv.gz"
    labels = ["billing", "shipping", "account"]
    data.write_bytes(gzip.compress(("text;label\n" + "".join(
        f'"ticket {i}; about my order";{labels[i % 3]}\n' for i in range(60))).encode()))
    path = tmp_path / "run.json"
    assert main(["init-config", str(path), "--data", str(data)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Detected: CSV file, 60 rows, columns: text, label; separator: semicolon" in out
    cfg = load_config(path)
    assert cfg.data.train_file == str(data) and cfg.data.delimiter == "auto"
    cfg = with_section(cfg.replace(model=ModelConfig(source="folder", path=str(tiny_bert_dir))), "training",
                       max_steps=4)
    save_config(cfg, path)
    assert main(["validate", str(path), "--no-doctor"]) == EXIT_OK
    assert "Format:  csv, separator ';'" in capsys.readouterr().out
