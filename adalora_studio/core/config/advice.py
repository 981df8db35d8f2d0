"""Warnings for values that are allowed but implausible (a learning rate of 0.5, an eval fraction of 0.9).

:func:`validate_config` rejects what cannot run; :func:`advise_config` flags what will run but probably not as the
user meant, with the reason. Nothing is ever clamped: the value stays as given and the warning says why it looks
wrong. Each warning names its config field (``training.learning_rate``) so the CLI prints the key and the GUI can
put its own label in front of the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from .schema import RunConfig

LEARNING_RATE_RANGE = (1e-6, 1e-2)
"""Learning rates outside this range rarely train a LoRA-style adapter well."""
EVAL_FRACTION_MAX = 0.5
"""Above this, more rows evaluate than train."""
EVAL_FRACTION_MIN = 0.02


@dataclass(frozen=True)
class ConfigAdvice:
    """One implausible value: the field's dotted path and the reason it looks wrong."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def advise_config(cfg: RunConfig) -> list[ConfigAdvice]:
    """Warnings for values that pass :func:`validate_config` (or fail it only because they are out of range)
    but are far outside what usually works. Returns an empty list when everything looks plausible."""
    out: list[ConfigAdvice] = []
    t, d, b = cfg.training, cfg.data, cfg.budget
    lo, hi = LEARNING_RATE_RANGE
    if t.learning_rate > hi:
        out.append(ConfigAdvice("training.learning_rate", f"{t.learning_rate:g} is very high; adapters usually train "
                                f"with 1e-4 to 1e-3, and above {hi:g} the loss tends to diverge"))
    elif 0 < t.learning_rate < lo:
        out.append(ConfigAdvice("training.learning_rate", f"{t.learning_rate:g} is very low; below {lo:g} the "
                                "adapter barely moves from its initialisation"))
    if not d.eval_file and EVAL_FRACTION_MAX < d.eval_fraction < 1.0:
        share = round(100 * (1 - d.eval_fraction))
        out.append(ConfigAdvice("data.eval_fraction", f"{d.eval_fraction:g} evaluates on more rows than it trains "
                                f"on (only {share}% of the rows train); 0.1 to 0.2 is usual"))
    elif not d.eval_file and 0.0 < d.eval_fraction < EVAL_FRACTION_MIN:
        out.append(ConfigAdvice("data.eval_fraction", f"{d.eval_fraction:g} leaves very few evaluation rows, so the "
                                "eval metrics will be noisy; 0.1 to 0.2 is usual"))
    if 0.5 <= t.warmup_ratio < 1.0:
        out.append(ConfigAdvice("training.warmup_ratio", f"{t.warmup_ratio:g}: the learning rate is still warming up "
                                "for half of the run or more; 0 to 0.1 is usual"))
    if t.weight_decay > 0.3:
        out.append(ConfigAdvice("training.weight_decay", f"{t.weight_decay:g} is very strong; 0 to 0.1 is usual"))
    if b.lora_dropout >= 0.5 and b.lora_dropout < 1.0:
        out.append(ConfigAdvice("budget.lora_dropout", f"{b.lora_dropout:g} drops half the adapter's input or more; "
                                "0 to 0.1 is usual"))
    if b.budget_mode == "ranks" and b.init_r > 256:
        out.append(ConfigAdvice("budget.init_r", f"{b.init_r} is a very large starting rank; 8 to 64 is usual and "
                                "memory grows with it"))
    return out
