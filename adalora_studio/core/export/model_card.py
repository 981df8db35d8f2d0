"""The model card (``README.md``) written into a run's adapter folder, replacing peft's empty template.

It says what the adapter is and how it came to be: base model, data file and row counts, task, method and
budget, a summary of the final ranks, the final metrics, how to load it with plain peft, and the studio
version. Everything comes from the run's own config and events, so the card is the same for the GUI and the CLI.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..config import RunConfig
from ..events import RanksUpdated

BUNDLED_CLASSIFIER = "all-MiniLM-L6-v2"
BUNDLED_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"


def _base_model(cfg: RunConfig) -> tuple[str, str]:
    """(what the base model is, the Python expression that names it for ``from_pretrained``)."""
    m = cfg.model
    if m.source == "bundled":
        return (f"{BUNDLED_CLASSIFIER} (bundled with AdaLoRA Studio; {BUNDLED_HUB_ID} on the Hugging Face Hub)",
                f'"{BUNDLED_HUB_ID}"  # or the bundled folder: adalora_studio.core.model.bundled_model_dir()')
    if m.source == "gguf":
        path = Path(m.path)
        return f"GGUF file {path}", f'"{path.parent}", gguf_file="{path.name}"'
    return (f"{'hub model' if m.source == 'hub' else 'local folder'} {m.path}", f'"{m.path}"')


def _ranks_summary(ranks: RanksUpdated | None) -> list[str]:
    if ranks is None or not ranks.matrices:
        return ["No rank snapshot was recorded."]
    mats = ranks.matrices
    init = max(m.init_rank for m in mats)
    by_type: dict[str, list[int]] = defaultdict(list)
    for m in mats:
        by_type[m.matrix_type].append(m.rank)
    lines = [f"{len(mats)} adapted matrices hold {ranks.total_rank} rank-1 triplets in total "
             f"(average {ranks.total_rank / len(mats):.2f} per matrix, from {init} each at the start).",
             "", "| matrix type | matrices | average rank | min | max |", "|---|---:|---:|---:|---:|"]
    for t, values in by_type.items():
        lines.append(f"| {t} | {len(values)} | {sum(values) / len(values):.2f} | {min(values)} | {max(values)} |")
    pruned = sum(1 for m in mats if m.rank == 0)
    top = sorted(mats, key=lambda m: -m.rank)[:5]
    lines += ["", f"Fully pruned matrices: {pruned}. Highest ranks: "
              + ", ".join(f"{m.name} ({m.rank})" for m in top) + ".",
              "The full table is `ranks.csv` in the run folder."]
    return lines


def _load_snippet(cfg: RunConfig, base_expr: str, n_labels: int) -> list[str]:
    if cfg.task == "causal-lm":
        auto, extra = "AutoModelForCausalLM", ""
    else:
        auto, extra = "AutoModelForSequenceClassification", f", num_labels={n_labels}"
    return ["```python", f"from transformers import {auto}, AutoTokenizer", "from peft import PeftModel", "",
            f"base = {auto}.from_pretrained({base_expr}{extra})",
            "model = PeftModel.from_pretrained(base, \"path/to/this/adapter\")  # an AdaLoRA adapter",
            "tokenizer = AutoTokenizer.from_pretrained(\"path/to/this/adapter\")"
            if cfg.task == "causal-lm" else f"tokenizer = AutoTokenizer.from_pretrained({base_expr})",
            "```", "", "peft 0.21 may warn that \"rank_pattern keys did not match any targeted module\" while "
            "loading: that check does not know AdaLoRA's `lora_E` keys; the modules are still sized from the "
            "rank pattern and the outputs match the trained model.", "",
            "A plain LoRA copy (any peft or LoRA tool can read it): "
            "`adalora-studio export <run folder> --as lora`."]


def model_card_text(cfg: RunConfig, n_train: int, n_eval: int, ranks: RanksUpdated | None,
                    metrics: dict[str, float], label_names: tuple[str, ...] = ()) -> str:
    """The Markdown model card of a finished run."""
    from ... import __version__

    base, base_expr = _base_model(cfg)
    b, t, d = cfg.budget, cfg.training, cfg.data
    if b.budget_mode == "ranks":
        budget = f"init_r {b.init_r} → target_r {b.target_r} per matrix on average"
    else:
        budget = f"{b.budget_value:g}{'% of the model parameters' if b.budget_mode == 'percent' else ' parameters'}"
    eval_source = f"the separate file {d.eval_file}" if d.eval_file else f"{d.eval_fraction:g} of the training file"
    lines = [f"# {cfg.name}: an AdaLoRA adapter", "",
             f"Trained with AdaLoRA Studio {__version__}.", "",
             "## What it is", "",
             f"- **Base model**: {base}",
             f"- **Task**: {cfg.task}" + (f" ({len(label_names)} labels: {', '.join(label_names)})"
                                         if label_names else ""),
             f"- **Data**: {d.train_file} — {n_train:,} training rows, {n_eval:,} evaluation rows "
             f"(evaluation: {eval_source})",
             f"- **Method**: AdaLoRA (peft), budget {budget}; warm-up tinit {b.tinit:g}, final phase tfinal "
             f"{b.tfinal:g}, reallocation every ΔT {b.delta_t} steps, orthogonality weight {b.orth_reg_weight:g}, "
             f"lora_alpha {b.lora_alpha:g}, lora_dropout {b.lora_dropout:g}",
             f"- **Adapted matrices**: {', '.join(b.target_modules) if b.target_modules else 'the model default set'}",
             f"- **Training**: {t.max_steps} steps" if t.max_steps else
             f"- **Training**: {t.epochs:g} epoch{'' if t.epochs == 1 else 's'}",
             f"  batch {t.batch_size} × accumulation {t.grad_accum}, learning rate {t.learning_rate:g} "
             f"({t.scheduler}), seed {t.seed}",
             "", "## Final ranks", "", *_ranks_summary(ranks),
             "", "## Final metrics", ""]
    lines += [f"- {k}: {v:.4g}" for k, v in metrics.items()] or ["No evaluation was run."]
    lines += ["", "## Load it with plain peft", "", *_load_snippet(cfg, base_expr, max(len(label_names), 2)), ""]
    return "\n".join(lines)


def write_model_card(adapter_dir: str | Path, cfg: RunConfig, n_train: int, n_eval: int,
                     ranks: RanksUpdated | None, metrics: dict[str, float], label_names: Any = ()) -> Path:
    """Write ``README.md`` into ``adapter_dir`` (atomically, replacing peft's template); returns its path."""
    path = Path(adapter_dir) / "README.md"
    atomic_write_text(path, model_card_text(cfg, n_train, n_eval, ranks, metrics, tuple(label_names)))
    return path
