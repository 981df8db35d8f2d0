"""Cluster hand-off files: the accelerate config and SLURM template parse; the launch script trains on 2 CPU ranks."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from adalora_studio.core.config import save_config
from adalora_studio.core.export import write_launch_files
from adalora_studio.core.runs import RunFolder, read_run_events
from tests.core.engine_fixtures import bert_config, small_classification_csv

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def launch_dir(tiny_bert_dir: Path, tmp_path: Path) -> Path:
    tickets = small_classification_csv(tmp_path)
    cfg = bert_config(tiny_bert_dir, tickets, tmp_path / "runs", max_steps=4, batch_size=8)
    save_config(cfg, tmp_path / "run.json")
    out = tmp_path / "launch"
    files = write_launch_files(tmp_path / "run.json", out, num_processes=2, nodes=3, port=29611)
    assert files.cpu and files.num_processes == 2
    return out


def test_accelerate_config_and_sbatch_template_parse(launch_dir: Path) -> None:
    import yaml
    from accelerate.commands.config.config_args import load_config_from_file

    raw = yaml.safe_load((launch_dir / "accelerate_config.yaml").read_text())
    assert raw["num_processes"] == 2 and raw["use_cpu"] is True and raw["distributed_type"] == "MULTI_CPU"
    loaded = load_config_from_file(str(launch_dir / "accelerate_config.yaml"))  # accelerate's own reader
    assert loaded.num_processes == 2 and loaded.main_process_port == 29611

    for script in ("launch.sh", "slurm.sbatch"):
        subprocess.run(["bash", "-n", str(launch_dir / script)], check=True)  # valid bash
        assert os.access(launch_dir / script, os.X_OK)
    text = (launch_dir / "slurm.sbatch").read_text()
    directives = dict(line[len("#SBATCH "):].split("=", 1) for line in text.splitlines()
                      if line.startswith("#SBATCH "))
    assert directives["--nodes"] == "3" and directives["--gpus-per-node"] == "2"
    assert directives["--ntasks-per-node"] == "1"
    srun = next(line for line in text.splitlines() if line.startswith("srun "))
    inner = shlex.split(srun)[-1]  # the command each node runs
    words = shlex.split(inner)
    for flag in ("--num_machines", "--machine_rank", "--main_process_ip", "--num_processes", "--config_file"):
        assert flag in words, flag
    module = len(words) - 1 - words[::-1].index("-m")  # the last -m: what accelerate launch runs
    assert words[module + 1:module + 3] == ["adalora_studio", "train"] and words[-1].endswith("run.json")


def test_launch_script_trains_on_two_cpu_processes(launch_dir: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
           "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(["bash", str(launch_dir / "launch.sh"), "--quiet"], cwd=str(ROOT), env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = [p for p in (launch_dir.parent / "runs").iterdir() if p.is_dir()]
    assert len(runs) == 1  # only rank 0 writes a run folder
    folder = RunFolder(runs[0])
    assert folder.read_status().state == "finished"
    started = next(e for e in read_run_events(folder.path) if e.kind == "run_started")
    assert started.total_steps == 4
    assert started.config["data"]["train_file"].startswith("/")  # relative paths were made absolute
