"""The events the engine yields: the one language between the engine and every viewer.

Events are frozen dataclasses of plain Python values (no tensors), so they cross threads and processes, are
written one per line to a run's ``events.jsonl``, and replay into exactly what a live listener saw.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

PHASE_WARMUP = "warm-up"
PHASE_BUDGETING = "budgeting"
PHASE_FINAL = "final"


@dataclass(frozen=True)
class Event:
    """Base class. ``kind`` names the event in ``events.jsonl``; ``time`` is the wall-clock time (Unix seconds)."""

    kind: ClassVar[str] = "event"
    time: float = field(default=0.0, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict with an ``event`` key naming the type."""
        out: dict[str, Any] = {"event": self.kind}
        for f in dataclasses.fields(self):
            out[f.name] = _plain(getattr(self, f.name))
        return out


@dataclass(frozen=True)
class RunStarted(Event):
    """The run is set up and about to train (or to continue, when ``resumed_from_step`` is not None)."""

    kind: ClassVar[str] = "run_started"
    run_dir: str
    config: dict[str, Any]
    total_steps: int
    steps_per_epoch: int
    device: str
    precision: str
    model_params: int
    trainable_init: int
    """Adapter parameters held in memory at init_r (the physical size while training)."""
    trainable_target: int
    """Adapter parameters kept at target_r (the effective size of the saved adapter)."""
    n_matrices: int
    init_r: int
    target_r: int
    tinit_steps: int
    tfinal_steps: int
    delta_t: int
    n_train: int
    n_eval: int
    label_names: tuple[str, ...] = ()
    resumed_from_step: int | None = None


@dataclass(frozen=True)
class StepLogged(Event):
    """Metrics of one optimizer step (1-based ``step``: the number of optimizer steps done)."""

    kind: ClassVar[str] = "step"
    step: int
    epoch: float
    task_loss: float
    """Loss of the task alone (what the user cares about)."""
    orth_loss: float
    """The orthogonal-regulariser term, already multiplied by orth_reg_weight (the part peft adds to the loss)."""
    lr: float
    grad_norm: float
    samples_per_s: float
    elapsed_s: float
    eta_s: float
    skipped_steps: int = 0
    """Optimizer steps skipped so far in this session by the fp16 gradient scaler (inf/NaN gradients)."""
    cuda_memory_mb: float | None = None
    """CUDA memory allocated now, MiB (None off CUDA)."""
    cuda_peak_mb: float | None = None
    """Peak CUDA memory allocated so far, MiB (None off CUDA)."""


@dataclass(frozen=True)
class EvalLogged(Event):
    """Evaluation of the model as it would be saved (rank mask applied)."""

    kind: ClassVar[str] = "eval"
    step: int
    eval_loss: float
    metrics: dict[str, float]
    """accuracy and macro_f1 for classification; perplexity for causal LM."""


@dataclass(frozen=True)
class MatrixRank:
    """The allocation of one adapted weight matrix."""

    name: str
    """Stable display name, e.g. ``L3.value``."""
    module: str
    """Full module path in the base model, e.g. ``bert.encoder.layer.3.attention.self.value``."""
    layer: int | None
    matrix_type: str
    """query, key, value, attn_out, ffn_in, ffn_out, qkv, gate, up, down, ..."""
    rank: int
    init_rank: int
    importance: tuple[float, ...]
    """Score of each of the init_rank triplets (the allocator's EMA sensitivity x uncertainty); empty if unknown."""
    kept: tuple[bool, ...] = ()
    """Which triplets are kept (length init_rank); empty before the first mask step (all kept)."""
    singular_values: tuple[float, ...] = ()
    """Λ (``lora_E``) of each triplet as the allocator saw it at a mask step (before masking; kept ones are the
    same after), or at the final snapshot; empty in other snapshots and in logs written before this field."""
    orth_residual: float | None = None
    """``‖PᵀP − I‖ + ‖QQᵀ − I‖`` (Frobenius) of this matrix when ``singular_values`` is given, else None."""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class RanksUpdated(Event):
    """A snapshot of the allocation: budget b(t), its phase, and the rank of every matrix."""

    kind: ClassVar[str] = "ranks"
    step: int
    budget: int
    """Total triplets the schedule allows at this step."""
    phase: str
    """warm-up | budgeting | final."""
    total_rank: int
    """Triplets actually held (sum of matrix ranks)."""
    matrices: tuple[MatrixRank, ...]
    threshold: float | None = None
    """At a mask step: the importance score at or below which peft masked triplets (the ``init_budget - budget``
    -th smallest score); None for other snapshots."""
    mask_step: bool = False
    """True when this snapshot follows a mask step (a new rank pattern was computed at this step)."""


@dataclass(frozen=True)
class CheckpointSaved(Event):
    """A checkpoint that can continue the run exactly was written."""

    kind: ClassVar[str] = "checkpoint"
    step: int
    path: str


@dataclass(frozen=True)
class LogMessage(Event):
    """A line for the log pane: ``level`` is info, warning or error."""

    kind: ClassVar[str] = "log"
    level: str
    message: str


@dataclass(frozen=True)
class Finished(Event):
    """Training completed and the adapter was saved."""

    kind: ClassVar[str] = "finished"
    step: int
    run_dir: str
    adapter_dir: str
    metrics: dict[str, float]
    peak_memory_mb: float | None = None
    """Peak resident RAM of the process over the run, in MiB (None: not recorded, e.g. a log from before)."""
    peak_cuda_mb: float | None = None
    """Peak CUDA allocation on the run's device, in MiB (None off CUDA or not recorded)."""


@dataclass(frozen=True)
class Failed(Event):
    """The run failed. ``message`` is for a person; ``detail`` is the traceback or technical cause."""

    kind: ClassVar[str] = "failed"
    step: int
    message: str
    detail: str = ""
    checkpoint: str = ""
    """The last good checkpoint (empty if none)."""


@dataclass(frozen=True)
class Stopped(Event):
    """The run stopped on request after writing a checkpoint it can resume from."""

    kind: ClassVar[str] = "stopped"
    step: int
    checkpoint: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (RunStarted, StepLogged, EvalLogged, RanksUpdated, CheckpointSaved, LogMessage, Finished, Failed,
                Stopped)
}
TERMINAL_EVENTS = (Finished, Failed, Stopped)


def _plain(value: Any) -> Any:
    if isinstance(value, MatrixRank):
        return value.to_dict()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def event_to_json(event: Event) -> str:
    """One line of ``events.jsonl``."""
    return json.dumps(event.to_dict(), separators=(",", ":"), allow_nan=True)


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from :meth:`Event.to_dict` output (unknown keys are ignored for forward compatibility)."""
    data = dict(data)
    cls = EVENT_TYPES[data.pop("event")]
    names = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in names:
            continue
        if key == "matrices":
            value = tuple(MatrixRank(**{**m, "importance": tuple(m.get("importance", ())),
                                        "kept": tuple(m.get("kept", ())),
                                        "singular_values": tuple(m.get("singular_values", ()))})
                          for m in value)
        elif key == "label_names":
            value = tuple(value)
        kwargs[key] = value
    return cls(**kwargs)


def event_from_json(line: str) -> Event:
    """Parse one line of ``events.jsonl``."""
    return event_from_dict(json.loads(line))


@dataclass(frozen=True)
class SkippedLine:
    """A line of an event log that could not be read."""

    line: int
    """1-based line number in what was read."""
    reason: str
    last: bool = False
    """It was the last line: a torn write from a crash, expected and harmless."""


def read_events(lines: Iterable[str], skipped: list[SkippedLine] | None = None) -> Iterator[Event]:
    """Parse event lines, skipping blank lines and lines that cannot be read.

    Nothing is skipped silently: pass ``skipped`` to get every skipped line (a torn last line, from a crash
    mid-write, is marked ``last``; any other is damage the caller should report).
    """
    failed: SkippedLine | None = None
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line:
            continue
        if failed is not None and skipped is not None:
            skipped.append(failed)
        failed = None
        try:
            yield event_from_json(line)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            failed = SkippedLine(number, f"{type(exc).__name__}: {exc}")
    if failed is not None and skipped is not None:
        skipped.append(dataclasses.replace(failed, last=True))


def describe_skipped(source: str, skipped: Iterable[SkippedLine]) -> str:
    """One sentence naming the damaged lines of ``source`` (a torn last line is not damage); "" if none."""
    damaged = [s for s in skipped if not s.last]
    if not damaged:
        return ""
    numbers = ", ".join(str(s.line) for s in damaged[:10]) + (", …" if len(damaged) > 10 else "")
    return (f"{source}: {len(damaged)} line{'s' if len(damaged) != 1 else ''} could not be read and "
            f"{'were' if len(damaged) != 1 else 'was'} skipped (line {numbers}; first: {damaged[0].reason})")


class StopToken:
    """A thread-safe stop request shared by a viewer (which sets it) and the engine (which polls it)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def request_stop(self) -> None:
        """Ask the run to stop at the next optimizer step (it checkpoints first)."""
        self._event.set()

    @property
    def stop_requested(self) -> bool:
        """True once a stop was requested."""
        return self._event.is_set()
