"""PNG twins of a run folder's SVG figures, for the headless commands (``train``, ``evaluate``).

The figures are SVG (the core is Qt-free and matplotlib is not a dependency); Qt's SVG renderer draws the PNGs.
A headless command never loads Qt itself: it starts ``adalora-studio png RUN_DIR`` as a separate process (offscreen
Qt), so a machine where Qt cannot start still gets its run, its report and the SVGs, with a warning instead of the
PNGs, and the command's own exit code is unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TIMEOUT_S = 180.0


def png_command(targets: list[str]) -> list[str]:
    """The command line of ``adalora-studio png TARGET...`` with this interpreter (or this frozen bundle)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "png", *targets]
    return [sys.executable, "-m", "adalora_studio", "png", *targets]


def write_pngs(run_dir: str | Path, timeout: float = TIMEOUT_S) -> tuple[list[str], str]:
    """Draw the missing or stale PNG twins of ``run_dir``'s figures in a separate process. Returns the PNGs written
    and a warning ('' when every figure was drawn)."""
    package_root = str(Path(__file__).resolve().parents[2])  # this very copy of the package runs the child
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    try:
        proc = subprocess.run(png_command([str(run_dir)]), capture_output=True, text=True, timeout=timeout, env=env,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [], f"PNG figures not written (the SVGs are there): {exc}"
    written = [line.split(None, 1)[1] for line in proc.stdout.splitlines() if line.startswith("PNG:")]
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        errors = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
        detail = "; ".join(errors) or (lines or [f"exit code {proc.returncode}"])[-1]
        return written, f"PNG figures not written (the SVGs are there): {detail}"
    return written, ""
