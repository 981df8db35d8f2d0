"""Exact save/restore of a run in progress (what peft's own resume cannot do for AdaLoRA).

A checkpoint folder ``checkpoints/step-000120/`` holds:

- ``trainable.safetensors`` - every trainable parameter at full size (``init_r`` triplets, not the sliced tensors
  ``save_pretrained`` writes), classifier heads in ``modules_to_save`` included;
- ``allocator.safetensors`` - the rank allocator's ``ipt``/``exp_avg_ipt``/``exp_avg_unc`` dicts;
- ``optimizer.pt``, ``scheduler.pt`` - their ``state_dict()``;
- ``rng.pt`` - torch CPU and CUDA generator states (of the main process; under several processes also every
  process's, under ``processes``: each process draws its own dropout masks, so each continues its own stream);
- ``state.json`` - step, data position, timing, the live ``rank_pattern``, last known triplet scores, Python and
  NumPy RNG states (every process's under ``process_rng``). Written last: a folder without it is incomplete and
  ignored.

The folder is built under a temporary name and renamed into place, so a crash never leaves a half checkpoint
under a real name. Everything loads with ``weights_only=True``.
"""

from __future__ import annotations

import io
import json
import random
import shutil
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..adalora import allocator_tensors, live_rank_pattern, restore_allocation, split_allocator_tensors
from ..atomic import atomic_write_bytes, atomic_write_json, fsync_dir
from ..errors import RunError
from ..runs import checkpoint_name, list_checkpoints

FORMAT_VERSION = 1


@dataclass
class TrainState:
    """Where a run stands: enough, with the tensors, to continue it exactly."""

    global_step: int = 0
    """Optimizer steps done (the next ``update_and_allocate`` index)."""
    epoch: int = 0
    """0-based epoch being consumed."""
    batch_in_epoch: int = 0
    """Micro-batches of ``epoch`` already consumed (a multiple of grad_accum except at the epoch's end)."""
    elapsed_s: float = 0.0
    """Training time accumulated over every session of this run."""
    samples_seen: int = 0
    total_steps: int = 0
    """The plan's total optimizer steps (a resume must plan the same)."""
    last_scores: dict[str, list[float]] | None = None
    """Last known triplet importance per module (kept after the allocator resets its EMAs)."""
    last_metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class Checkpoint:
    """A loaded checkpoint: the state plus tensors on the CPU."""

    path: Path
    state: TrainState
    rank_pattern: dict[str, list[bool]] | None
    trainable: dict[str, Any]
    allocator: dict[str, dict[str, Any]]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    rng: dict[str, Any]
    process_rng: list[dict[str, Any]] = field(default_factory=list)
    """Every process's generator states when several processes saved it (index = process index); else empty."""

    def rng_of(self, process_index: int) -> dict[str, Any]:
        """The generator states process ``process_index`` resumes with: its own when saved, else the main's."""
        if 0 <= process_index < len(self.process_rng):
            return self.process_rng[process_index]
        return self.rng


def _torch_bytes(obj: Any) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _safetensors_bytes(tensors: dict[str, Any]) -> bytes:
    from safetensors.torch import save

    return save({k: v.detach().contiguous().cpu() for k, v in tensors.items()})


def capture_rng() -> tuple[dict[str, Any], dict[str, Any]]:
    """(torch states for ``rng.pt``, JSON-able Python and NumPy states)."""
    import numpy as np
    import torch

    tensors: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors["cuda"] = torch.cuda.get_rng_state_all()
    version, internal, gauss = random.getstate()
    np_state: Any = np.random.get_state()
    plain: dict[str, Any] = {
        "python": [version, list(internal), gauss],
        "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
    }
    return tensors, plain


def restore_rng(rng: dict[str, Any]) -> None:
    """Set the Python, NumPy, torch and CUDA generators from :func:`capture_rng` output (as loaded)."""
    import numpy as np
    import torch

    py = rng.get("python")
    if py:
        random.setstate((py[0], tuple(py[1]), py[2]))
    npy = rng.get("numpy")
    if npy:
        np.random.set_state((npy[0], np.asarray(npy[1], dtype=np.uint32), npy[2], npy[3], npy[4]))
    if "torch" in rng:
        torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


def save_checkpoint(
    checkpoints_dir: str | Path,
    *,
    model: Any,
    optimizer: Any,
    scheduler: Any,
    state: TrainState,
    keep: int | None = None,
    process_rng: list[tuple[dict[str, Any], dict[str, Any]]] | None = None,
) -> Path:
    """Write a checkpoint of the unwrapped peft ``model`` after ``state.global_step`` steps; return its folder.

    Built in ``.tmp-step-N`` and renamed; an existing folder for the same step is replaced. With ``keep``, only
    the newest ``keep`` checkpoints remain afterwards. Call on the main process only; under several processes
    pass ``process_rng``, every process's :func:`capture_rng` (gathered, in process order).
    """
    root = Path(checkpoints_dir)
    root.mkdir(parents=True, exist_ok=True)
    final = root / checkpoint_name(state.global_step)
    tmp = root / f".tmp-{final.name}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        _write_checkpoint_files(tmp, model, optimizer, scheduler, state, process_rng or [capture_rng()])
    except BaseException:  # a full disk, or any other failure: no half-written folder stays behind
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    fsync_dir(root)
    if keep is not None:
        prune_checkpoints(root, keep)
    return final


def _write_checkpoint_files(tmp: Path, model: Any, optimizer: Any, scheduler: Any, state: TrainState,
                            process_rng: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    atomic_write_bytes(tmp / "trainable.safetensors", _safetensors_bytes(trainable))
    atomic_write_bytes(tmp / "allocator.safetensors", _safetensors_bytes(allocator_tensors(model)))
    atomic_write_bytes(tmp / "optimizer.pt", _torch_bytes(optimizer.state_dict()))
    atomic_write_bytes(tmp / "scheduler.pt", _torch_bytes(scheduler.state_dict()))
    rng_tensors, rng_plain = process_rng[0]
    several = len(process_rng) > 1
    extra = {"processes": [t for t, _ in process_rng]} if several else {}
    atomic_write_bytes(tmp / "rng.pt", _torch_bytes({**rng_tensors, **extra}))
    atomic_write_json(tmp / "state.json", {
        "format_version": FORMAT_VERSION,
        "state": asdict(state),
        "rank_pattern": live_rank_pattern(model),
        "rng": rng_plain,
        **({"process_rng": [p for _, p in process_rng]} if several else {}),
    })


def prune_checkpoints(checkpoints_dir: str | Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` complete checkpoints (and stale temporary folders); return the deleted."""
    root = Path(checkpoints_dir)
    removed = []
    for old in list_checkpoints(root)[:-keep] if keep > 0 else list_checkpoints(root):
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old)
    for stale in root.glob(".tmp-step-*"):
        shutil.rmtree(stale, ignore_errors=True)
    return removed


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint folder (tensors on the CPU). Raises :class:`RunError` when it is incomplete."""
    import torch
    from safetensors.torch import load_file

    path = Path(path)
    try:
        doc = json.loads((path / "state.json").read_text(encoding="utf-8"))
        trainable = load_file(str(path / "trainable.safetensors"))
        flat_alloc = load_file(str(path / "allocator.safetensors"))
        optimizer = torch.load(path / "optimizer.pt", map_location="cpu", weights_only=True)
        scheduler = torch.load(path / "scheduler.pt", map_location="cpu", weights_only=True)
        rng_tensors = torch.load(path / "rng.pt", map_location="cpu", weights_only=True)
        processes = rng_tensors.pop("processes", [])
    except FileNotFoundError as exc:
        raise RunError(f"{path}: checkpoint is incomplete ({Path(exc.filename or '').name} missing); "
                       "resume from an earlier checkpoint or start a new run") from exc
    except (json.JSONDecodeError, OSError, RuntimeError) as exc:
        raise RunError(f"{path}: checkpoint cannot be read ({exc}); resume from an earlier checkpoint") from exc
    if doc.get("format_version") != FORMAT_VERSION:
        raise RunError(f"{path}: checkpoint format {doc.get('format_version')} is not supported "
                       f"(this version reads {FORMAT_VERSION})")
    return Checkpoint(
        path=path,
        state=train_state_from_dict(doc.get("state"), path),
        rank_pattern=doc.get("rank_pattern"),
        trainable=trainable,
        allocator=split_allocator_tensors(flat_alloc),
        optimizer=optimizer,
        scheduler=scheduler,
        rng={**rng_tensors, **doc.get("rng", {})},
        process_rng=[{**t, **p} for t, p in zip(processes, doc.get("process_rng", []), strict=False)],
    )


def train_state_from_dict(data: Any, path: str | Path = "checkpoint") -> TrainState:
    """The :class:`TrainState` saved in ``state.json``; :class:`RunError` ("cannot resume this checkpoint") when
    its fields are not exactly this version's (written by another version of AdaLoRA Studio, or damaged)."""
    names = {f.name for f in fields(TrainState)}
    if not isinstance(data, dict):
        raise RunError(f"{path}: cannot resume this checkpoint: its state.json has no training state")
    unknown, missing = sorted(set(data) - names), sorted(names - set(data))
    if unknown or missing:
        parts = ([f"unknown fields {', '.join(unknown)}"] if unknown else []) + (
            [f"missing fields {', '.join(missing)}"] if missing else [])
        raise RunError(f"{path}: cannot resume this checkpoint: its training state has {'; '.join(parts)} "
                       "(it was written by another version of AdaLoRA Studio). Resume it with that version, "
                       "or start the run again")
    try:
        return TrainState(**data)
    except TypeError as exc:  # pragma: no cover - the field check above catches every case TrainState has
        raise RunError(f"{path}: cannot resume this checkpoint: {exc}") from exc


def restore_model_state(model: Any, ckpt: Checkpoint) -> None:
    """Copy the full-size trainable weights, the live ``rank_pattern`` and the allocator EMAs into ``model``.

    ``model`` is the unwrapped peft model built exactly as for the original run (same config and targets).
    Raises :class:`RunError` when the checkpoint does not fit (different targets or ranks).
    """
    import torch

    params = dict(model.named_parameters())
    trainable = {n for n, p in params.items() if p.requires_grad}
    missing = sorted(trainable - set(ckpt.trainable))
    extra = sorted(set(ckpt.trainable) - trainable)
    if missing or extra:
        raise RunError(f"{ckpt.path}: checkpoint does not match the model (missing {missing[:3]}, "
                       f"unexpected {extra[:3]}); was the run's config or model changed?")
    with torch.no_grad():
        for name, value in ckpt.trainable.items():
            param = params[name]
            if tuple(param.shape) != tuple(value.shape):
                raise RunError(f"{ckpt.path}: {name} has shape {tuple(value.shape)}, the model expects "
                               f"{tuple(param.shape)}; was init_r or the model changed?")
            param.copy_(value.to(device=param.device, dtype=param.dtype))
    restore_allocation(model, ckpt.rank_pattern, ckpt.allocator)
