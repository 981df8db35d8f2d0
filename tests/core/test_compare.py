"""A/B comparisons and budget sweeps through the CLI, the verdict against seed noise, CSV and config diff."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from adalora_studio.cli import main
from adalora_studio.core.compare import (
    JSON_KEYS,
    ArmStats,
    config_diff,
    plan_arms,
    read_run_result,
    results_csv,
    verdict,
    verdict_for,
)
from adalora_studio.core.config import load_config, save_config
from tests.core.engine_fixtures import (
    bert_config,
    small_classification_csv,
    torch_single_thread,  # noqa: F401  (autouse fixture)
)


def _arm(method: str, values: tuple[float, ...]) -> ArmStats:
    import statistics

    return ArmStats(method=method, target_r=2, n=len(values), mean=statistics.fmean(values),
                    spread=statistics.stdev(values) if len(values) > 1 else 0.0, effective_params=100.0,
                    seconds_per_step=0.1, values=values)


def test_verdict_with_one_seed_says_it_cannot_tell() -> None:
    text = verdict(_arm("adalora", (0.862,)), _arm("lora", (0.854,)), "accuracy")
    assert text.startswith("AdaLoRA +0.8 points accuracy over LoRA")
    assert "one seed per arm" in text and "noise" in text


def test_verdict_within_seed_spread() -> None:
    # AdaLoRA mean 0.860, sd 0.011; LoRA mean 0.852, sd 0.010: a 0.8-point gap inside ±1.1 points
    text = verdict(_arm("adalora", (0.849, 0.860, 0.871)), _arm("lora", (0.842, 0.852, 0.862)), "accuracy")
    assert text == ("AdaLoRA +0.8 points accuracy over LoRA, within seed spread (±1.1 points) over 3 seeds: "
                    "no clear winner.")


def test_verdict_outside_seed_spread_names_the_winner_even_when_it_is_lora() -> None:
    text = verdict(_arm("adalora", (0.850, 0.854, 0.858)), _arm("lora", (0.878, 0.882, 0.886)), "accuracy")
    assert text == "LoRA +2.8 points accuracy over AdaLoRA, outside seed spread (±0.4 points) over 3 seeds: " \
                   "LoRA is ahead."
    lower = verdict(_arm("adalora", (10.0, 10.1)), _arm("lora", (12.0, 12.1)), "perplexity")
    assert lower.startswith("AdaLoRA 2 lower perplexity than LoRA, outside seed spread")


def test_arms_run_adalora_then_its_matched_lora_per_seed_and_budget(tmp_path: Path) -> None:
    cfg = bert_config(tmp_path, tmp_path / "x.csv", tmp_path)
    arms = plan_arms(cfg, seeds=2, budgets=(1, 4))
    assert [(a.target_r, a.seed, a.method) for a in arms] == [
        (1, 7, "adalora"), (1, 7, "lora"), (1, 8, "adalora"), (1, 8, "lora"),
        (4, 7, "adalora"), (4, 7, "lora"), (4, 8, "adalora"), (4, 8, "lora")]


@pytest.fixture()
def run_json(tiny_bert_dir: Path, tmp_path: Path) -> Path:
    cfg = bert_config(tiny_bert_dir, small_classification_csv(tmp_path), tmp_path / "runs", max_steps=8)
    path = tmp_path / "run.json"
    save_config(cfg, path)
    return path


def _run_folders(runs: Path) -> list[Path]:
    return sorted(p for p in runs.iterdir() if (p / "run.json").is_file())


def test_ab_with_two_seeds_writes_four_tagged_runs_and_compare_reads_them_back(
        run_json: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ab", str(run_json), "--seeds", "2", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    folders = _run_folders(tmp_path / "runs")
    assert len(folders) == 4 and len(printed) == 4
    ids = {load_config(f / "run.json").comparison_id for f in folders}
    assert len(ids) == 1 and re.fullmatch(r"cmp-\d{8}-\d{6}-[0-9a-f]{4}", ids.pop())
    assert sorted((r["method"], r["seed"]) for r in printed) == [("adalora", 7), ("adalora", 8), ("lora", 7),
                                                                 ("lora", 8)]
    for adalora, lora in ((printed[0], printed[1]), (printed[2], printed[3])):  # each LoRA matches its own arm
        assert adalora["method"] == "adalora" and lora["method"] == "lora" and adalora["seed"] == lora["seed"]
        step = read_run_result(lora["run_dir"]).config["lora"]["match_params"]
        assert step == adalora["effective_params"]
        assert abs(lora["effective_params"] - adalora["effective_params"]) <= 4 * 64  # one LoRA rank step

    assert main(["compare", *[r["run_dir"] for r in printed], "--json", "--csv", str(tmp_path / "c.csv")]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again == printed
    assert all(list(r)[:len(JSON_KEYS)] == list(JSON_KEYS) and r["steps"] == 8 and "accuracy" in r["metrics"]
               for r in again)
    assert all(r["peak_memory_mb"] > 0 and "peak_cuda_mb" not in r for r in again)  # recorded; CPU: no GPU key
    rows = list(csv.DictReader(io.StringIO((tmp_path / "c.csv").read_text())))
    assert [r["run_dir"] for r in rows] == [r["run_dir"] for r in printed]

    assert main(["compare", *[r["run_dir"] for r in printed]]) == 0
    table = capsys.readouterr().out
    assert "over 2 seeds" in table and "seed spread" in table
    assert "peak memory" in table and table.count(" MiB") == 2  # one RAM figure per arm (AdaLoRA, LoRA)


def test_a_two_budget_sweep_writes_four_arms_and_a_plot_of_two_lines_of_two_points(
        run_json: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ab", str(run_json), "--budgets", "1,2"]) == 0
    out = capsys.readouterr().out
    folders = _run_folders(tmp_path / "runs")
    assert len(folders) == 4
    results = [read_run_result(f) for f in folders]
    assert sorted((r.method, r.target_r) for r in results) == [("adalora", 1), ("adalora", 2), ("lora", 1),
                                                               ("lora", 2)]
    cid = results[0].comparison_id
    svg = (tmp_path / "runs" / "comparisons" / cid / "sweep.svg").read_text()
    lines = re.findall(r'<polyline points="([^"]+)"', svg)
    assert len(lines) == 2 and all(len(points.split()) == 2 for points in lines)
    assert "AdaLoRA" in svg and "LoRA" in svg
    assert len(verdict_for(results)) == 2 and "target_r 1:" in out and "target_r 2:" in out
    diff = dict(config_diff(results))
    assert "method" in diff and "budget.target_r" in diff and "data.train_file" not in diff
    assert results_csv(results).splitlines()[0].startswith("run_dir,name,method,comparison_id")


def test_compare_names_a_run_that_cannot_be_compared(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "broken").mkdir()
    assert main(["compare", str(tmp_path / "broken")]) == 2
    assert "broken" in capsys.readouterr().err


def test_a_run_records_its_peak_memory_and_old_logs_show_a_dash(run_json: Path, tmp_path: Path) -> None:
    import resource

    from adalora_studio.core.compare import arm_stats, format_table, memory_text
    from adalora_studio.core.events import Finished
    from adalora_studio.core.runs import read_run_events
    from adalora_studio.core.training import run

    last = list(run(load_config(run_json)))[-1]
    assert isinstance(last, Finished) and last.peak_cuda_mb is None  # trained on the CPU
    lifetime_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the process's peak since it began
    assert last.peak_memory_mb is not None and 0 < last.peak_memory_mb <= lifetime_mb + 1
    logged = [e for e in read_run_events(last.run_dir) if isinstance(e, Finished)]
    assert logged == [last]  # the figures round-trip through events.jsonl
    result = read_run_result(last.run_dir)
    assert result.peak_memory_mb == last.peak_memory_mb
    assert result.to_json()["peak_memory_mb"] == round(last.peak_memory_mb, 1)
    row = list(csv.DictReader(io.StringIO(results_csv([result]))))[0]
    assert float(row["peak_memory_mb"]) == pytest.approx(last.peak_memory_mb, abs=0.05) and row["peak_cuda_mb"] == ""

    events = Path(last.run_dir) / "events.jsonl"  # a run logged before the figure existed
    lines = events.read_text().splitlines()
    old = json.loads(lines[-1])
    del old["peak_memory_mb"], old["peak_cuda_mb"]
    events.write_text("\n".join([*lines[:-1], json.dumps(old)]) + "\n")
    before = read_run_result(last.run_dir)
    assert before.peak_memory_mb is None and before.to_json()["peak_memory_mb"] is None
    stats = arm_stats([before], "accuracy")
    assert memory_text(stats[0]) == "—" and format_table(stats, "accuracy").splitlines()[-1].endswith("  —")
