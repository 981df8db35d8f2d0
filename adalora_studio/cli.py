"""Headless command line: ``adalora-studio SUBCOMMAND``. With no subcommand the window opens (see ``__main__``).

Heavy libraries are imported inside the commands that need them, so ``--help`` is instant and importing this module
pulls in neither torch nor Qt.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .core.config.schema import TASKS
from .core.errors import ConfigErrors, StudioError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_STOPPED = 130


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

    p = sub.add_parser("launch", help="open the app; without a display, run the demo fine-tune headless instead")
    p.set_defaults(func=cmd_launch)

    p = sub.add_parser("demo", help="fine-tune the bundled model on the bundled demo dataset, headless")
    p.add_argument("--task", choices=("text-classification", "causal-lm", "question-answering"),
                   default="text-classification")
    p.add_argument("--output-dir", help="folder that receives the run folder (default: the user's runs folder)")
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many optimizer steps (default: 3 epochs)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train", help="train from a config file, or continue a stopped run with --resume")
    p.add_argument("config", nargs="?", help="run config (.json or .yaml)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue this run from its last checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bar; only the final summary")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("validate", help="check a config without training: data, model, ranks, steps")
    p.add_argument("config")
    p.add_argument("--no-doctor", action="store_true",
                   help="skip the dataset doctor (it loads the tokenizer and measures a sample of rows)")
    p.add_argument("--dry-run", action="store_true",
                   help="also run a few real optimizer steps: s/step, peak memory, projected time, fits or not")
    p.add_argument("--steps", type=int, default=5, help="with --dry-run: measured optimizer steps (after 2 warm-up)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("inspect", help="print the per-matrix rank table of an AdaLoRA adapter or run folder")
    p.add_argument("path", help="an adapter folder (adapter_config.json) or a run folder")
    p.set_defaults(func=cmd_inspect)

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
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("export-launch", help="write an accelerate config, a launch script and a SLURM template")
    p.add_argument("config", help="run config (.json or .yaml)")
    p.add_argument("out_dir", help="folder that receives run.json, accelerate_config.yaml, launch.sh, slurm.sbatch")
    p.add_argument("--processes", type=int, default=0,
                   help="processes (GPUs) per machine (default: the visible GPUs; 1 for a CPU config)")
    p.add_argument("--nodes", type=int, default=1, help="machines in the SLURM template (default 1)")
    p.add_argument("--port", type=int, default=29500, help="rendezvous port of the main process")
    p.set_defaults(func=cmd_export_launch)

    p = sub.add_parser("init-config", help="write a commented starting config")
    p.add_argument("path", nargs="?", default="run.json")
    p.add_argument("--task", choices=TASKS, default="text-classification")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--data", metavar="FILE", help="start from this data file (any supported format; read to check it)")
    p.add_argument("--sheet", default="", help="with --data on an .xlsx file: the sheet (default: the first)")
    p.set_defaults(func=cmd_init_config)

    p = sub.add_parser("runs", help="list runs in the runs folder")
    p.add_argument("--dir", help="runs folder (default: the user's runs folder)")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("evaluate", help="evaluate a run on a data file (or its own eval rows); writes a new report")
    p.add_argument("run_dir", help="a finished run folder (a stopped run uses its last checkpoint)")
    p.add_argument("--data", metavar="FILE", help="rows with the run's columns (default: the run's own eval rows)")
    p.add_argument("--known-labels-only", action="store_true",
                   help="leave out rows whose label the model never saw (they are listed) instead of refusing")
    p.add_argument("--json", action="store_true", help="print metrics, per-class table and confusion matrix as JSON")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="classify texts with a run's adapter: label and class probabilities")
    p.add_argument("run_dir", help="a text-classification run folder")
    p.add_argument("texts", nargs="+", metavar="TEXT")
    p.add_argument("--json", action="store_true", help='print [{"text", "label", "probabilities"}, ...]')
    p.add_argument("--context", help="question-answering runs: the passage the TEXT questions are answered from")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("generate", help="generate text after a prompt with a causal-LM run's adapter (greedy)")
    p.add_argument("run_dir", help="a causal-lm run folder")
    p.add_argument("prompt")
    p.add_argument("--max-new-tokens", type=int, default=64, metavar="N")
    p.add_argument("--base", action="store_true", help="use the base model, adapter switched off")
    p.add_argument("--json", action="store_true", help="print the generation as JSON")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("ab", help="train AdaLoRA and a LoRA baseline at the matched budget (N seeds) and compare")
    p.add_argument("config", help="run config (.json or .yaml) of the AdaLoRA arm")
    p.add_argument("--seeds", type=int, default=1, help="seeds per arm (training.seed, +1, ...; default 1)")
    p.add_argument("--budgets", help="budget sweep: comma-separated target_r values, e.g. 1,2,4,8")
    p.add_argument("--json", action="store_true", help="print one JSON object per run instead of the table")
    p.set_defaults(func=cmd_ab)

    p = sub.add_parser("compare", help="compare finished runs: table, verdict against seed spread, or --json")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    p.add_argument("--json", action="store_true", help="print one JSON object per run instead of the table")
    p.add_argument("--csv", metavar="OUT_CSV", help="also write the comparison as CSV")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("install-desktop", help="add AdaLoRA Studio to the start menu (per user)")
    p.set_defaults(func=cmd_install_desktop)
    p = sub.add_parser("uninstall-desktop", help="remove the start-menu entry")
    p.set_defaults(func=cmd_uninstall_desktop)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    if args.command is None:
        return open_app(config_path=args.config, start=args.start, open_run=args.open_run)
    try:
        return int(args.func(args))
    except ConfigErrors as exc:
        _err("the config has problems:\n" + "\n".join(f"  - {e}" for e in exc.errors))
        return EXIT_INVALID
    except StudioError as exc:
        _err(exc.user_message())
        return EXIT_INVALID


def _err(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


# --------------------------------------------------------------------------------------------- the app


def has_display() -> bool:
    """True when a window can be shown (X11/Wayland on Linux; always on Windows and macOS)."""
    if sys.platform.startswith(("win", "darwin")):
        return True
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal")):
        return False
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_app(config_path: str | None = None, start: bool = False, open_run: str | None = None) -> int:
    """Open the desktop window."""
    from .gui.app import run_app

    return run_app(config_path=config_path, start=start, open_run=open_run)


def cmd_launch(args: argparse.Namespace) -> int:
    """Open the app, or run the demo headless when no display is available."""
    if has_display():
        return open_app()
    print("No display found (neither DISPLAY nor WAYLAND_DISPLAY is set): running the demo fine-tune headless.")
    print("On a desktop, `adalora-studio` opens the app instead.\n")
    return cmd_demo(argparse.Namespace(task="text-classification", output_dir=None, max_steps=0))


# ------------------------------------------------------------------------------------------- training


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the bundled demo headless."""
    from .core.config import demo_config, with_section

    cfg = demo_config(args.task)
    if args.output_dir:
        cfg = cfg.replace(output_dir=str(Path(args.output_dir).resolve()))
    if args.max_steps:
        cfg = with_section(cfg, "training", max_steps=args.max_steps)
    print(f"Demo: {cfg.task} on {cfg.data.train_file}")
    return _train(cfg, resume_from=None, quiet=False, plots=True)


def cmd_train(args: argparse.Namespace) -> int:
    """Train from a config file or resume a run."""
    from .core.config import load_config

    if args.resume:
        from .core.runs import RunFolder

        folder = RunFolder(Path(args.resume))
        if not folder.run_json.exists():
            _err(f"{args.resume}: not a run folder (no run.json)")
            return EXIT_INVALID
        cfg = folder.read_config()
        return _train(cfg, resume_from=folder.path, quiet=args.quiet, plots=True)
    if not args.config:
        _err("give a config file (adalora-studio train run.json) or --resume RUN_DIR")
        return EXIT_INVALID
    cfg = load_config(args.config)
    return _train(cfg, resume_from=None, quiet=args.quiet, plots=True)


def _train(cfg: Any, resume_from: Path | None, quiet: bool, plots: bool) -> int:
    from .app.logging_setup import setup_logging
    from .app.progress import ProgressPrinter
    from .core.config import check_config
    from .core.events import Failed, Finished, LogMessage, RunStarted, Stopped, StopToken

    check_config(cfg)
    main_process = os.environ.get("RANK", "0") == "0"  # under accelerate launch / torchrun only rank 0 reports
    log = logging.getLogger("adalora_studio.cli")
    if main_process:
        setup_logging("cli")
        log.info("training %r (%s, model %s, data %s)%s", cfg.name, cfg.task, cfg.model.source, cfg.data.train_file,
                 f", resuming {resume_from}" if resume_from else "")
        print("Loading libraries, model and data…", flush=True)
    from .core.training import run

    stop = StopToken()
    printer = ProgressPrinter(stream=sys.stdout, quiet=quiet)
    previous = _install_stop_handler(stop)
    run_dir = ""
    code = EXIT_FAILED
    try:
        for event in run(cfg, stop=stop, resume_from=resume_from):
            if main_process:
                printer.handle(event)
            if isinstance(event, RunStarted):
                run_dir = event.run_dir
                log.info("run folder %s", run_dir)
            elif isinstance(event, LogMessage) and event.level != "info":
                log.warning("%s", event.message)
            elif isinstance(event, Finished):
                code = EXIT_OK
                log.info("finished at step %d: %s", event.step, event.metrics)
            elif isinstance(event, Stopped):
                code = EXIT_STOPPED
                log.info("stopped at step %d; checkpoint %s", event.step, event.checkpoint)
            elif isinstance(event, Failed):
                code = EXIT_FAILED
                log.error("failed at step %d: %s\n%s", event.step, event.message, event.detail)
    finally:
        signal.signal(signal.SIGINT, previous)
    if plots and main_process and run_dir and code != EXIT_FAILED:
        from .core.export import write_run_plots

        written = write_run_plots(Path(run_dir))
        for path in written:
            print(f"Plot:    {path}")
    return code


def _install_stop_handler(stop: Any) -> Any:
    """First Ctrl+C asks the engine to checkpoint and stop; a second one aborts."""

    def handler(signum: int, frame: Any) -> None:
        if stop.stop_requested:
            raise KeyboardInterrupt
        print("\nStopping after this step and writing a checkpoint… (Ctrl+C again to abort)", flush=True)
        stop.request_stop()

    return signal.signal(signal.SIGINT, handler)


# -------------------------------------------------------------------------------------------- checks


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate a config against its data and model without training."""
    from .core.config import check_config, load_config
    from .core.training import validate_run

    cfg = load_config(args.config)
    from .core.config import advise_config

    for advice in advise_config(cfg):
        print(f"Warning: {advice}", file=sys.stderr)
    cfg = check_config(cfg)
    report = validate_run(cfg, doctor=not args.no_doctor)
    for line in report.lines():
        print(line)
    print("\nOK: the config is valid.")
    if getattr(args, "dry_run", False):
        from .core.training import measure_run

        print(f"\nDry run: {args.steps} measured optimizer steps on the real model and data (nothing is kept)...",
              flush=True)
        measured = measure_run(cfg, steps=args.steps)
        for line in measured.lines():
            print(line)
        return EXIT_OK if measured.fits else EXIT_FAILED
    return EXIT_OK


def cmd_inspect(args: argparse.Namespace) -> int:
    """Print the rank table of an adapter (or a run's adapter)."""
    from .core.adalora import format_rank_table, read_adapter_ranks

    path = Path(args.path)
    if (path / "adapter" / "adapter_config.json").exists():
        path = path / "adapter"
    print(format_rank_table(read_adapter_ranks(path)))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """Export a finished run."""
    from .core.export import exports as export

    run_dir = Path(args.run_dir)
    if args.as_lora:
        out = export.export_run_as_lora(run_dir, Path(args.as_lora))
        print(f"Plain LoRA adapter written to {out}")
    elif args.merged:
        out = export.export_run_merged(run_dir, Path(args.merged))
        print(f"Merged model written to {out}")
    elif getattr(args, "gguf", None):
        from .core.export import export_gguf

        gguf_path, modelfile = export_gguf(run_dir, Path(args.gguf), args.gguf_type)
        print(f"GGUF ({args.gguf_type}) written to {gguf_path}; Ollama Modelfile to {modelfile}")
    elif getattr(args, "lora_config", None):
        from .core.export import export_lora_config

        json_path, yaml_path = export_lora_config(run_dir, Path(args.lora_config))
        print(f"LoraConfig written to {json_path}; Axolotl snippet to {yaml_path}")
    else:
        out = export.export_rank_csv(run_dir, Path(args.ranks_csv))
        print(f"Rank table written to {out}")
    return EXIT_OK


def cmd_export_launch(args: argparse.Namespace) -> int:
    """Write the cluster hand-off files for a config."""
    from .core.config import check_config, load_config
    from .core.export import write_launch_files

    check_config(load_config(args.config))
    files = write_launch_files(args.config, args.out_dir, num_processes=args.processes, nodes=args.nodes,
                               port=args.port)
    where = "CPU processes (torchrun, gloo)" if files.cpu else "GPU processes (accelerate launch)"
    print(f"Wrote {files.run_json}, {files.accelerate_config.name}, {files.launch_script.name} and "
          f"{files.sbatch.name} in {files.run_json.parent}.")
    print(f"Run here: bash {files.launch_script}   ({files.num_processes} {where})")
    print(f"On SLURM: sbatch {files.sbatch}   (follow the run folder live in the app with Open run)")
    return EXIT_OK


def cmd_init_config(args: argparse.Namespace) -> int:
    """Write a commented starting config."""
    from .core.atomic import atomic_write_text
    from .core.config import commented_json, demo_config

    path = Path(args.path)
    if path.exists() and not args.force:
        _err(f"{path} exists; use --force to overwrite it")
        return EXIT_INVALID
    cfg = demo_config(args.task)
    if args.data:
        from .core.data import starting_data

        data, found = starting_data(args.data, args.task, cfg.data, args.sheet)
        cfg = cfg.replace(data=data, name=Path(args.data).name.split(".")[0] or cfg.name)
        print("Detected: " + "; ".join(found))
    atomic_write_text(path, commented_json(cfg))
    print(f"Wrote {path}. Edit it, check it with `adalora-studio validate {path}`, "
          f"then run `adalora-studio train {path}`.")
    return EXIT_OK


def cmd_runs(args: argparse.Namespace) -> int:
    """List runs."""
    from .core.runs import list_runs

    runs = list_runs(Path(args.dir) if args.dir else None)
    if not runs:
        print("No runs yet. Start one with `adalora-studio demo` or `adalora-studio train run.json`.")
        return EXIT_OK
    for r in runs:
        print(f"{r.status:9} step {r.step:>6}  {r.name:30}  {r.path}")
    return EXIT_OK


def cmd_install_desktop(args: argparse.Namespace) -> int:
    """Install the start-menu entry."""
    from .app.desktop import install_desktop

    for path in install_desktop():
        print(f"Installed {path}")
    return EXIT_OK


def cmd_uninstall_desktop(args: argparse.Namespace) -> int:
    """Remove the start-menu entry."""
    from .app.desktop import uninstall_desktop

    for path in uninstall_desktop():
        print(f"Removed {path}")
    return EXIT_OK


# ------------------------------------------------------------------------------------- using a trained run


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Evaluate a run and write a new report."""
    from .app.inference_commands import run_evaluate

    return run_evaluate(args.run_dir, args.data, args.json, args.known_labels_only)


def cmd_predict(args: argparse.Namespace) -> int:
    """Classify texts."""
    from .app.inference_commands import run_predict

    return run_predict(args.run_dir, args.texts, args.json, context=args.context)


def cmd_generate(args: argparse.Namespace) -> int:
    """Generate after a prompt."""
    from .app.inference_commands import run_generate

    return run_generate(args.run_dir, args.prompt, args.max_new_tokens, args.base, args.json)
def cmd_ab(args: argparse.Namespace) -> int:
    """Train the AdaLoRA arm and the matched LoRA arm (N seeds each, optionally per budget) and compare."""
    from .app.compare_cli import parse_budgets, run_ab
    from .core.config import check_config, load_config
    from .core.events import StopToken

    if args.seeds < 1:
        _err("--seeds must be at least 1")
        return EXIT_INVALID
    try:
        budgets = parse_budgets(args.budgets) if args.budgets else ()
    except ValueError as exc:
        _err(str(exc))
        return EXIT_INVALID
    cfg = check_config(load_config(args.config))
    stop = StopToken()
    previous = _install_stop_handler(stop)
    try:
        return run_ab(cfg, args.seeds, budgets, args.json, stop)
    finally:
        signal.signal(signal.SIGINT, previous)


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare finished runs."""
    from .app.compare_cli import run_compare

    return run_compare(args.run_dirs, args.json, csv_path=args.csv)
