"""Cluster hand-off: an accelerate config, a launch script and a SLURM ``sbatch`` template for a saved run config.

``adalora-studio export-launch run.json OUT_DIR`` (and the review page) writes into OUT_DIR:

- ``run.json`` - the config, with relative file paths made absolute (the ranks may start elsewhere);
- ``accelerate_config.yaml`` - what ``accelerate launch --config_file`` reads (processes, machines, CPU or GPUs);
- ``launch.sh`` - one machine: ``accelerate launch`` on GPUs; on CPU ``torchrun`` (accelerate's own launcher runs
  one CPU process), both with ``-m adalora_studio train run.json``;
- ``slurm.sbatch`` - several machines: one task per node, ``srun`` starting ``accelerate launch`` with
  ``--num_machines``, ``--machine_rank`` and ``--main_process_ip`` from SLURM's environment.

Only rank 0 writes the run folder (under ``output_dir``): put it on shared storage and open it in the app with
"Open run" to follow the run live.
"""

from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass
from pathlib import Path

from ..atomic import atomic_write_text
from ..config import RunConfig, load_config, save_config
from ..errors import ConfigError

DEFAULT_PORT = 29500


@dataclass(frozen=True)
class LaunchFiles:
    """The files :func:`write_launch_files` wrote."""

    run_json: Path
    accelerate_config: Path
    launch_script: Path
    sbatch: Path
    num_processes: int
    cpu: bool


def absolute_paths(cfg: RunConfig, base: Path) -> RunConfig:
    """``cfg`` with relative data, model and output paths resolved against ``base``."""
    def fix(value: str) -> str:
        return str((base / value).resolve()) if value and not Path(value).expanduser().is_absolute() else value

    model = cfg.model if cfg.model.source in ("bundled", "hub") else dataclasses.replace(
        cfg.model, path=fix(cfg.model.path))
    data = dataclasses.replace(cfg.data, train_file=fix(cfg.data.train_file), eval_file=fix(cfg.data.eval_file))
    return dataclasses.replace(cfg, model=model, data=data, output_dir=fix(cfg.output_dir))


def default_processes(cpu: bool) -> int:
    """The visible GPUs on a GPU run, 1 on CPU."""
    if cpu:
        return 1
    import torch

    return max(torch.cuda.device_count(), 1)


def accelerate_config_text(num_processes: int, num_machines: int, cpu: bool, port: int) -> str:
    """The YAML ``accelerate launch --config_file`` reads. Precision stays with run.json (the engine sets it)."""
    multi = num_processes > 1 or num_machines > 1
    kind = ("MULTI_CPU" if cpu else "MULTI_GPU") if multi else "NO"
    return "\n".join([
        "# Written by adalora-studio export-launch. Precision comes from run.json (training.precision).",
        "compute_environment: LOCAL_MACHINE",
        f"distributed_type: {kind}",
        "downcast_bf16: 'no'",
        "gpu_ids: all" if not cpu else "gpu_ids: null",
        "machine_rank: 0",
        "main_process_ip: 127.0.0.1",
        f"main_process_port: {port}",
        "main_training_function: main",
        "mixed_precision: 'no'",
        f"num_machines: {num_machines}",
        f"num_processes: {num_processes * num_machines}",
        "rdzv_backend: static",
        "same_network: true",
        f"use_cpu: {'true' if cpu else 'false'}",
        "",
    ])


def launch_script_text(num_processes: int, cpu: bool, port: int) -> str:
    """A bash script that trains run.json (next to it) on this machine with ``num_processes`` processes."""
    if cpu:  # accelerate's launcher starts a single CPU process; torchrun starts N with the gloo backend
        start = (f'"$PYTHON" -m torch.distributed.run --nproc_per_node "${{NUM_PROCESSES:-{num_processes}}}" '
                 f'--master_port "${{MASTER_PORT:-{port}}}" -m adalora_studio train "$HERE/run.json" "$@"')
    else:
        start = ('"$PYTHON" -m accelerate.commands.launch --config_file "$HERE/accelerate_config.yaml" '
                 f'--num_processes "${{NUM_PROCESSES:-{num_processes}}}" --main_process_port '
                 f'"${{MASTER_PORT:-{port}}}" -m adalora_studio train "$HERE/run.json" "$@"')
    return "\n".join([
        "#!/usr/bin/env bash",
        "# Written by adalora-studio export-launch: train run.json (next to this script) on this machine.",
        "# PYTHON: the interpreter with adalora-studio installed; NUM_PROCESSES / MASTER_PORT override the defaults.",
        "# Extra arguments go to `adalora-studio train` (e.g. --quiet). Stop: Ctrl+C (every rank checkpoints).",
        "set -euo pipefail",
        'HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
        'PYTHON="${PYTHON:-python3}"',
        f"exec {start}",
        "",
    ])


def sbatch_text(name: str, nodes: int, gpus_per_node: int, port: int, here: Path) -> str:
    """A SLURM batch template: one task per node, each running ``accelerate launch`` for its node's GPUs."""
    folder = shlex.quote(str(here))
    inner = ('"$PYTHON" -m accelerate.commands.launch --config_file ' + f"{folder}/accelerate_config.yaml"
             ' --num_machines "$SLURM_NNODES" --num_processes "$((SLURM_NNODES * GPUS_PER_NODE))"'
             ' --machine_rank "$SLURM_PROCID" --main_process_ip "$MASTER_ADDR" --main_process_port "$MASTER_PORT"'
             f" -m adalora_studio train {folder}/run.json")
    return "\n".join([
        "#!/bin/bash",
        "# Written by adalora-studio export-launch. Adjust partition, time and memory to your cluster; submit with",
        "# `sbatch slurm.sbatch`. Put the run's output_dir on storage every node and your desktop can see, and",
        "# follow the run live in the app with Open run.",
        f"#SBATCH --job-name={name}",
        f"#SBATCH --nodes={nodes}",
        "#SBATCH --ntasks-per-node=1",
        f"#SBATCH --gpus-per-node={gpus_per_node}",
        "#SBATCH --cpus-per-task=8",
        "#SBATCH --time=04:00:00",
        "#SBATCH --output=%x-%j.out",
        "set -euo pipefail",
        f"export GPUS_PER_NODE={gpus_per_node}",
        'export MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"',
        f'export MASTER_PORT="${{MASTER_PORT:-{port}}}"',
        'export PYTHON="${PYTHON:-python3}"',
        f"srun --ntasks-per-node=1 bash -c '{inner}'",
        "",
    ])


def write_launch_files(config: str | Path | RunConfig, out_dir: str | Path, *, num_processes: int = 0,
                       nodes: int = 1, port: int = DEFAULT_PORT) -> LaunchFiles:
    """Write run.json, the accelerate config, the launch script and the sbatch template into ``out_dir``.

    ``config``: a config file, or the config itself (the app's review page). ``num_processes`` (per machine):
    0 means the visible GPUs (this imports torch), or 1 for a CPU config.
    """
    loaded = config if isinstance(config, RunConfig) else load_config(Path(config))
    cfg = absolute_paths(loaded, Path.cwd())
    cpu = cfg.training.device == "cpu"
    if num_processes < 0 or nodes < 1:
        raise ConfigError("", f"processes must be >= 0 and nodes >= 1 (got {num_processes} and {nodes})")
    n = num_processes or default_processes(cpu)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = LaunchFiles(out / "run.json", out / "accelerate_config.yaml", out / "launch.sh", out / "slurm.sbatch",
                        n, cpu)
    save_config(cfg, files.run_json)
    atomic_write_text(files.accelerate_config, accelerate_config_text(n, 1, cpu, port))
    atomic_write_text(files.launch_script, launch_script_text(n, cpu, port))
    atomic_write_text(files.sbatch, sbatch_text(cfg.name, nodes, n, port, out.resolve()))
    for script in (files.launch_script, files.sbatch):
        script.chmod(0o755)
    return files


def launch_command(python: str, config_path: str | Path, num_processes: int, cpu: bool, *, port: int = DEFAULT_PORT,
                   resume_dir: str | Path | None = None) -> list[str]:
    """The argv that trains ``config_path`` (or resumes ``resume_dir``) with ``num_processes`` local processes:
    torchrun on CPU (gloo), accelerate launch on GPUs; what the app's launcher starts as a child process."""
    train = ["-m", "adalora_studio", "train", "--quiet"]
    train += ["--resume", str(resume_dir)] if resume_dir is not None else [str(config_path)]
    if cpu:
        return [python, "-m", "torch.distributed.run", "--nproc_per_node", str(num_processes), "--master_port",
                str(port), *train]
    return [python, "-m", "accelerate.commands.launch", "--num_processes", str(num_processes),
            "--main_process_port", str(port), *(["--multi_gpu"] if num_processes > 1 else []), *train]


def runs_base(cfg: RunConfig) -> Path:
    """The folder a run of ``cfg`` creates its run folder in (``output_dir`` or the user's runs folder)."""
    from .. import paths

    return Path(cfg.output_dir).expanduser() if cfg.output_dir else paths.runs_dir()
