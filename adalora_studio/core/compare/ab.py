"""A/B and budget sweeps: AdaLoRA arms and matched LoRA arms trained one after another in the engine.

For every budget (``target_r``; the config's own when no sweep is asked) and every seed, the AdaLoRA arm trains
first; the LoRA arm of the same seed then trains with ``lora.match_params`` set to the AdaLoRA arm's *actual*
final effective parameters (read from its saved adapter). Every arm is an ordinary run folder whose
``run.json`` carries the shared ``comparison_id``. :func:`run_comparison` is a generator of :class:`ArmEvent`
(the engine's events, tagged with the arm), checked for the stop request between arms, so the CLI prints it and
the GUI's worker can queue, show and stop it.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..config import LoraOptions, RunConfig, with_section
from ..events import Event, Failed, Finished, Stopped, StopToken

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Arm:
    """One run of a comparison (its config is complete once its AdaLoRA arm, if any, has finished)."""

    index: int
    method: str
    seed: int
    target_r: int
    label: str


@dataclass(frozen=True)
class ArmEvent:
    """An engine event of one arm (``n_arms`` in all)."""

    arm: Arm
    n_arms: int
    event: Event


@dataclass
class ComparisonOutcome:
    """What a comparison produced, filled in as it runs."""

    comparison_id: str
    run_dirs: list[str] = field(default_factory=list)
    """Finished arms' run folders, in order."""
    problems: list[str] = field(default_factory=list)
    """Arms that failed, were stopped or skipped, one line each."""
    stopped: bool = False


def new_comparison_id(when: float | None = None) -> str:
    """A fresh id such as ``cmp-20261201-220501-3fa2``: sortable by time, unique in practice."""
    stamp = datetime.fromtimestamp(time.time() if when is None else when, timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"cmp-{stamp}-{secrets.token_hex(2)}"


def sweep_init_r(cfg: RunConfig, target_r: int) -> int:
    """init_r for a swept ``target_r``: the config's init_r/target_r ratio, at least ``target_r + 1``."""
    b = cfg.budget
    ratio = b.init_r / b.target_r if b.target_r > 0 else 1.5
    return max(target_r + 1, math.ceil(ratio * target_r - 1e-9))


def plan_arms(cfg: RunConfig, seeds: int, budgets: Sequence[int] = ()) -> list[Arm]:
    """The arms in the order they run: per budget, per seed, AdaLoRA then its matched LoRA."""
    if seeds < 1:
        raise ValueError("seeds must be at least 1")
    arms: list[Arm] = []
    for target_r in (budgets or (cfg.budget.target_r,)):
        for k in range(seeds):
            seed = cfg.training.seed + k
            for method in ("adalora", "lora"):
                arms.append(Arm(index=len(arms), method=method, seed=seed, target_r=int(target_r),
                                label=f"{'AdaLoRA' if method == 'adalora' else 'LoRA'} r{target_r} seed {seed}"))
    return arms


def arm_config(cfg: RunConfig, arm: Arm, comparison_id: str, match_params: int = 0) -> RunConfig:
    """The run config of one arm: the base config with this arm's method, budget, seed, name and id."""
    out = cfg.replace(name=f"{cfg.name}-{arm.method}-r{arm.target_r}-s{arm.seed}", method=arm.method,
                      comparison_id=comparison_id)
    if arm.target_r != cfg.budget.target_r:
        out = with_section(out, "budget", budget_mode="ranks", target_r=arm.target_r,
                           init_r=sweep_init_r(cfg, arm.target_r))
    out = with_section(out, "training", seed=arm.seed)
    if arm.method == "lora":
        out = out.replace(lora=LoraOptions(r=0, match_params=match_params, use_rslora=cfg.lora.use_rslora,
                                           use_dora=cfg.lora.use_dora))
    else:
        out = out.replace(lora=LoraOptions())
    return out


class ComparisonQueue:
    """The arms of one comparison as a queue: :meth:`next` gives the next arm and its config, :meth:`record`
    takes its terminal event. The CLI's :func:`run_comparison` and the GUI's worker queue both drive it, so the
    matching rule (a LoRA arm matches its own AdaLoRA arm's final count) lives here once."""

    def __init__(self, cfg: RunConfig, seeds: int = 1, budgets: Sequence[int] = (),
                 comparison_id: str | None = None) -> None:
        self.cfg = cfg
        self.arms = plan_arms(cfg, seeds, budgets)
        self.outcome = ComparisonOutcome(comparison_id or new_comparison_id())
        self.states: dict[int, str] = {a.index: "queued" for a in self.arms}
        """Arm index -> queued | running | finished | failed | stopped | skipped."""
        self._matched: dict[tuple[int, int], int] = {}
        self._pos = 0

    @property
    def comparison_id(self) -> str:
        """The id every arm's run.json carries."""
        return self.outcome.comparison_id

    def adopt(self, run_dir: str) -> None:
        """Use a finished AdaLoRA run as the first AdaLoRA arm ("Compare with LoRA…" on a finished run): only the
        LoRA arms (and any further seeds) train. Its run.json (the record of what ran) is left as it is, so it
        keeps its own (or no) comparison id; the id is added to its library tags instead, so a library search
        for the id finds every arm."""
        from ..adalora import adapter_effective_params
        from ..runs import read_entry, set_tags

        first = self.arms[self._pos] if self._pos < len(self.arms) else None
        if first is None or first.method != "adalora":
            raise ValueError("adopt() must come before the first arm starts")
        self.states[first.index] = "finished"
        self.outcome.run_dirs.append(str(run_dir))
        self._matched[(first.target_r, first.seed)] = adapter_effective_params(Path(run_dir) / "adapter")
        self._pos += 1
        try:
            set_tags(run_dir, [*read_entry(run_dir).tags, self.comparison_id])
        except OSError:  # a read-only folder: the comparison still lists it, only the tag is missing
            log.warning("could not tag %s with %s", run_dir, self.comparison_id, exc_info=True)

    def next(self) -> tuple[Arm, RunConfig] | None:
        """The next arm to train and its config (skipping LoRA arms whose AdaLoRA arm did not finish), or None."""
        while self._pos < len(self.arms):
            arm = self.arms[self._pos]
            self._pos += 1
            match = 0
            if arm.method == "lora":
                match = self._matched.get((arm.target_r, arm.seed), 0)
                if not match:
                    self.states[arm.index] = "skipped"
                    self.outcome.problems.append(f"{arm.label}: skipped, its AdaLoRA arm did not finish")
                    continue
            self.states[arm.index] = "running"
            return arm, arm_config(self.cfg, arm, self.comparison_id, match)
        return None

    def record(self, arm: Arm, terminal: Event | None) -> None:
        """Take an arm's terminal event (Finished, Stopped or Failed)."""
        from ..adalora import adapter_effective_params

        if isinstance(terminal, Finished):
            self.states[arm.index] = "finished"
            self.outcome.run_dirs.append(terminal.run_dir)
            if arm.method == "adalora":
                self._matched[(arm.target_r, arm.seed)] = adapter_effective_params(terminal.adapter_dir)
        elif isinstance(terminal, Stopped):
            self.states[arm.index] = "stopped"
            self.outcome.stopped = True
            self.outcome.problems.append(f"{arm.label}: stopped at step {terminal.step}")
        else:
            self.states[arm.index] = "failed"
            message = terminal.message if isinstance(terminal, Failed) else "ended without a result"
            self.outcome.problems.append(f"{arm.label}: failed: {message}")

    def stop(self) -> None:
        """Drop every arm not started yet (the running one stops through its own stop request)."""
        for arm in self.arms[self._pos:]:
            self.states[arm.index] = "stopped"
            self.outcome.problems.append(f"{arm.label}: not started (stopped)")
        self.outcome.stopped = True
        self._pos = len(self.arms)


def run_comparison(cfg: RunConfig, seeds: int = 1, budgets: Sequence[int] = (), stop: StopToken | None = None,
                   comparison_id: str | None = None,
                   outcome: ComparisonOutcome | None = None) -> Iterator[ArmEvent]:
    """Train every arm one after another and yield their events; fills ``outcome`` (pass one to read it).

    A LoRA arm whose AdaLoRA arm did not finish is skipped (there is no final count to match). A stop request
    stops the running arm (it checkpoints, as any run) and no further arm starts.
    """
    from ..training import run

    stop = stop or StopToken()
    queue = ComparisonQueue(cfg, seeds, budgets, comparison_id or (outcome.comparison_id if outcome else None))
    if outcome is not None:
        queue.outcome = outcome
    while (item := queue.next()) is not None:
        arm, arm_cfg = item
        last: Event | None = None
        for event in run(arm_cfg, stop=stop, app="compare"):
            last = event
            yield ArmEvent(arm, len(queue.arms), event)
        queue.record(arm, last)
        if stop.stop_requested:
            queue.stop()
