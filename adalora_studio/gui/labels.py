"""Config keys as the GUI names them: messages from core name fields (``budget.target_r``), which the CLI keeps,
and the window shows the label of the control instead ("Target rank (target_r)" on the Budget page).
"""

from __future__ import annotations

import re

FIELD_LABELS: dict[str, str] = {
    "name": "Run name",
    "task": "Task",
    "output_dir": "Runs folder",
    "model.source": "Model source",
    "model.path": "Model path",
    "data.train_file": "Data file",
    "data.format": "Data format",
    "data.eval_file": "Eval file",
    "data.eval_fraction": "Eval fraction",
    "data.text_columns": "Text column",
    "data.label_column": "Label column",
    "data.prompt_column": "Prompt column",
    "data.response_column": "Response column",
    "data.max_length": "Max tokens",
    "budget.budget_mode": "Budget in",
    "budget.budget_value": "Kept at the end",
    "budget.init_r": "Initial rank (init_r)",
    "budget.target_r": "Target rank (target_r)",
    "budget.tinit": "Warm-up (tinit)",
    "budget.tfinal": "Final (tfinal)",
    "budget.delta_t": "Prune every (ΔT)",
    "budget.target_modules": "Matrices to adapt",
    "budget.orth_reg_weight": "Orthogonality weight",
    "budget.lora_alpha": "LoRA alpha",
    "budget.lora_dropout": "LoRA dropout",
    "budget.beta1": "Sensitivity smoothing (beta1)",
    "budget.beta2": "Uncertainty smoothing (beta2)",
    "training.epochs": "Epochs",
    "training.max_steps": "Max steps",
    "training.batch_size": "Batch size",
    "training.grad_accum": "Gradient accumulation",
    "training.learning_rate": "Learning rate",
    "training.scheduler": "Scheduler",
    "training.warmup_ratio": "Warm-up ratio",
    "training.weight_decay": "Weight decay",
    "training.max_grad_norm": "Max grad norm",
    "training.seed": "Seed",
    "training.eval_every": "Evaluate every",
    "training.checkpoint_every": "Checkpoint every",
    "training.keep_checkpoints": "Keep checkpoints",
    "training.log_every": "Log every",
    "training.device": "Device",
    "training.precision": "Precision",
    "training.gradient_checkpointing": "Gradient checkpointing",
    "training.processes": "Processes / GPUs",
    "model.load_in_4bit": "4-bit base",
}

_KEY = re.compile(r"\b(?:(?:model|data|budget|training)\.[a-z_0-9]+|name|task|output_dir)\b")
_LEADING = re.compile(r"^((?:model|data|budget|training)\.[a-z_0-9]+|name|task|output_dir): ")


def field_label(key: str) -> str:
    """The GUI label of a config key (the key itself if it has none)."""
    return FIELD_LABELS.get(key, key)


def for_gui(message: str) -> str:
    """``message`` with config keys replaced by the GUI's labels: a leading ``budget.target_r:`` becomes
    ``Target rank (target_r):`` and a key inside the sentence becomes the quoted label."""
    lines = []
    for line in message.split("\n"):
        lead = _LEADING.match(line)
        head = ""
        if lead and lead.group(1) in FIELD_LABELS:
            head, line = f"{FIELD_LABELS[lead.group(1)]}: ", line[lead.end():]
        line = _KEY.sub(lambda m: f"“{FIELD_LABELS[m.group(0)]}”" if "." in m.group(0) and m.group(0) in
                        FIELD_LABELS else m.group(0), line)
        lines.append(head + line)
    return "\n".join(lines)
