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

from .app.cli_parser import build_parser
from .core.errors import ConfigErrors, StudioError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_STOPPED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    if args.command is None:
        return open_app(config_path=args.config, start=args.start, open_run=args.open_run)
    try:
        handler = globals()["cmd_" + args.command.replace("-", "_")]  # looked up now: tests replace them
        return int(handler(args))
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
        _write_pngs(run_dir)
    return code


def _write_pngs(run_dir: str, quiet: bool = False) -> None:
    """PNG twins of the run's SVG figures (report and plots), drawn in a separate process; a warning if not."""
    from .app.figures_png import write_pngs

    written, warning = write_pngs(run_dir)
    if not quiet:
        for path in written:
            print(f"PNG:     {path}")
    if warning:
        print(f"warning: {warning}", file=sys.stderr)


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

    code = run_evaluate(args.run_dir, args.data, args.json, args.known_labels_only)
    _write_pngs(args.run_dir, quiet=args.json)  # --json keeps stdout to the JSON
    return code


def cmd_png(args: argparse.Namespace) -> int:
    """Draw PNG twins of SVG figures (needs Qt: the one headless command that loads it, lazily)."""
    from .gui.svg_png import main as png_main

    return png_main(args.targets, force=args.force)


def cmd_predict(args: argparse.Namespace) -> int:
    """Classify texts."""
    from .app.inference_commands import run_predict

    return run_predict(args.run_dir, args.texts, args.json, context=args.context)


def cmd_generate(args: argparse.Namespace) -> int:
    """Generate after a prompt."""
    from .app.inference_commands import run_generate, sampling_settings

    settings = sampling_settings(args.max_new_tokens, args.sample, args.temperature, args.top_p, args.seed)
    return run_generate(args.run_dir, args.prompt, args.max_new_tokens, args.base, args.json, settings=settings)
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
