"""The ``adalora-studio`` argument parser: every subcommand and option (its help text is the README's command
table). Each subcommand ``x-y`` is run by ``cli.cmd_x_y``."""

from __future__ import annotations

import argparse

from .. import __version__
from ..core.config.schema import TASKS

DEFAULT_TEMPERATURE = 0.7
DEFAULT_TOP_P = 0.9
"""The playground's starting values (``core.inference.GenerationSettings``)."""
Subcommands = argparse._SubParsersAction  # argparse's type for add_subparsers()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand (also used to document them in README)."""
    parser = argparse.ArgumentParser(
        prog="adalora-studio",
        description="Fine-tune Hugging Face models with AdaLoRA and watch the rank budget move. "
        "With no subcommand the desktop app opens.",
    )
    parser.add_argument("--version", action="version", version=f"adalora-studio {__version__}")
    parser.add_argument("--config", metavar="RUN_JSON", help="open the app with this config loaded into the wizard")
    parser.add_argument("--start", action="store_true", help="with --config: start that run right away")
    parser.add_argument("--open", metavar="RUN_DIR", dest="open_run", help="open the app on a run folder (replay)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (_run_commands, _export_commands, _evaluation_commands, _app_commands):
        add(sub)
    return parser


def _run_commands(sub: Subcommands) -> None:
    """Commands that train, check or list runs."""
    p = sub.add_parser("launch", help="open the app; without a display, run the demo fine-tune headless instead")

    p = sub.add_parser("demo", help="fine-tune the bundled model on the bundled demo dataset, headless")
    p.add_argument("--task", choices=("text-classification", "causal-lm", "question-answering"),
                   default="text-classification")
    p.add_argument("--output-dir", help="folder that receives the run folder (default: the user's runs folder)")
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many optimizer steps (default: 3 epochs)")

    p = sub.add_parser("train", help="train from a config file, or continue a stopped run with --resume")
    p.add_argument("config", nargs="?", help="run config (.json or .yaml)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue this run from its last checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bar; only the final summary")

    p = sub.add_parser("validate", help="check a config without training: data, model, ranks, steps")
    p.add_argument("config")
    p.add_argument("--no-doctor", action="store_true",
                   help="skip the dataset doctor (it loads the tokenizer and measures a sample of rows)")
    p.add_argument("--dry-run", action="store_true",
                   help="also run a few real optimizer steps: s/step, peak memory, projected time, fits or not")
    p.add_argument("--steps", type=int, default=5, help="with --dry-run: measured optimizer steps (after 2 warm-up)")

    p = sub.add_parser("init-config", help="write a commented starting config")
    p.add_argument("path", nargs="?", default="run.json")
    p.add_argument("--task", choices=TASKS, default="text-classification")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--data", metavar="FILE", help="start from this data file (any supported format; read to check it)")
    p.add_argument("--sheet", default="", help="with --data on an .xlsx file: the sheet (default: the first)")

    p = sub.add_parser("runs", help="list runs in the runs folder")
    p.add_argument("--dir", help="runs folder (default: the user's runs folder)")


def _export_commands(sub: Subcommands) -> None:
    """Commands that read or export a finished run."""
    p = sub.add_parser("inspect", help="print the per-matrix rank table of an AdaLoRA adapter or run folder")
    p.add_argument("path", help="an adapter folder (adapter_config.json) or a run folder")

    p = sub.add_parser("export", help="export a finished run: plain LoRA, merged model, or rank table")
    p.add_argument("run_dir", help="a finished run folder")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--as-lora", metavar="OUT_DIR", help="fold the kept triplets into a standard LoRA adapter")
    group.add_argument("--merged", metavar="OUT_DIR", help="save the base model with the adapter merged in")
    group.add_argument("--ranks-csv", metavar="OUT_CSV", help="write the final rank table as CSV")
    group.add_argument("--lora-config", metavar="OUT",
                       help="write the ranks found as a peft LoraConfig (rank/alpha_pattern) + Axolotl snippet")
    group.add_argument("--gguf", metavar="OUT.gguf",
                       help="Llama-family causal LM: the merged model as GGUF plus an Ollama Modelfile")
    p.add_argument("--gguf-type", choices=("f16", "q8_0"), default="f16", help="GGUF tensor type (with --gguf)")

    p = sub.add_parser("export-launch", help="write an accelerate config, a launch script and a SLURM template")
    p.add_argument("config", help="run config (.json or .yaml)")
    p.add_argument("out_dir", help="folder that receives run.json, accelerate_config.yaml, launch.sh, slurm.sbatch")
    p.add_argument("--processes", type=int, default=0,
                   help="processes (GPUs) per machine (default: the visible GPUs; 1 for a CPU config)")
    p.add_argument("--nodes", type=int, default=1, help="machines in the SLURM template (default 1)")
    p.add_argument("--port", type=int, default=29500, help="rendezvous port of the main process")


def _evaluation_commands(sub: Subcommands) -> None:
    """Commands that use a trained run or compare runs."""
    p = sub.add_parser("evaluate", help="evaluate a run on a data file (or its own eval rows); writes a new report")
    p.add_argument("run_dir", help="a finished run folder (a stopped run uses its last checkpoint)")
    p.add_argument("--data", metavar="FILE", help="rows with the run's columns (default: the run's own eval rows)")
    p.add_argument("--known-labels-only", action="store_true",
                   help="leave out rows whose label the model never saw (they are listed) instead of refusing")
    p.add_argument("--json", action="store_true", help="print metrics, per-class table and confusion matrix as JSON")

    p = sub.add_parser("predict", help="classify texts with a run's adapter: label and class probabilities")
    p.add_argument("run_dir", help="a text-classification run folder")
    p.add_argument("texts", nargs="+", metavar="TEXT")
    p.add_argument("--json", action="store_true", help='print [{"text", "label", "probabilities"}, ...]')
    p.add_argument("--context", help="question-answering runs: the passage the TEXT questions are answered from")

    p = sub.add_parser("generate", help="generate text after a prompt with a causal-LM run's adapter (greedy, or "
                       "sampled with --sample)")
    p.add_argument("run_dir", help="a causal-lm run folder")
    p.add_argument("prompt")
    p.add_argument("--max-new-tokens", type=int, default=64, metavar="N")
    p.add_argument("--base", action="store_true", help="use the base model, adapter switched off")
    p.add_argument("--sample", action="store_true",
                   help="sample with --temperature and --top-p (default: greedy, the most likely token each step)")
    p.add_argument("--temperature", type=float, metavar="T",
                   help=f"with --sample: divide the logits by T (> 0; default {DEFAULT_TEMPERATURE})")
    p.add_argument("--top-p", type=float, metavar="P",
                   help=f"with --sample: draw from the smallest set of tokens whose probability reaches P (0 < P <= 1; "
                        f"default {DEFAULT_TOP_P})")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="with --sample: the random seed; the same seed gives the same text (default 0)")
    p.add_argument("--json", action="store_true", help="print the generation and the decoding settings as JSON")

    p = sub.add_parser("png", help="draw PNG twins of a run's SVG figures (report, plots); train and evaluate do it")
    p.add_argument("targets", nargs="+", metavar="RUN_DIR|SVG", help="run folders (report*.svg, plots/*.svg) or SVGs")
    p.add_argument("--force", action="store_true", help="redraw PNGs that are already newer than their SVG")

    p = sub.add_parser("ab", help="train AdaLoRA and a LoRA baseline at the matched budget (N seeds) and compare")
    p.add_argument("config", help="run config (.json or .yaml) of the AdaLoRA arm")
    p.add_argument("--seeds", type=int, default=1, help="seeds per arm (training.seed, +1, ...; default 1)")
    p.add_argument("--budgets", help="budget sweep: comma-separated target_r values, e.g. 1,2,4,8")
    p.add_argument("--json", action="store_true", help="print one JSON object per run instead of the table")

    p = sub.add_parser("compare", help="compare finished runs: table, verdict against seed spread, or --json")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    p.add_argument("--json", action="store_true", help="print one JSON object per run instead of the table")
    p.add_argument("--csv", metavar="OUT_CSV", help="also write the comparison as CSV")


def _app_commands(sub: Subcommands) -> None:
    """Commands that add or remove the start-menu entry."""
    sub.add_parser("install-desktop", help="add AdaLoRA Studio to the start menu (per user)")
    sub.add_parser("uninstall-desktop", help="remove the start-menu entry")
