"""Windows and macOS shortcuts through the optional package ``pyshortcuts`` (no Qt here).

:func:`adalora_studio.app.desktop.install_desktop` calls :func:`install` off Linux: a Start Menu shortcut on Windows,
an application on the Desktop on macOS. Not tested on this project's Linux CI beyond :func:`pyshortcuts_script`
and the wiring (with a stand-in ``pyshortcuts`` module).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core import paths
from .identity import APP_ID, DESCRIPTION, DISPLAY_NAME, DesktopError


def _pyshortcuts() -> Any:
    try:
        import pyshortcuts
    except ImportError as exc:
        raise DesktopError(
            "Adding a Start Menu / Applications shortcut on this system needs the optional package "
            "pyshortcuts: run `pip install pyshortcuts` (or `pip install adalora-studio[desktop]`) and try again."
        ) from exc
    return pyshortcuts


def _native_icon() -> str | None:
    ext = ".icns" if sys.platform == "darwin" else ".ico"
    icon = paths.resources_dir() / "icons" / f"{APP_ID}{ext}"
    return str(icon) if icon.is_file() else None


def _shortcut_files(scut: object, folders: Sequence[str]) -> list[Path]:
    target = getattr(scut, "target", "")
    return [Path(folder) / target for folder in folders if folder and target and (Path(folder) / target).exists()]


def is_windows() -> bool:
    """Whether this is Windows (a seam for tests)."""
    return os.name == "nt"


def pyshortcuts_script(command: Sequence[str], on_windows: bool | None = None) -> tuple[str, str | None]:
    """``(script, executable)`` for ``pyshortcuts.make_shortcut`` that start ``command``.

    pyshortcuts splits ``script`` at its first space into program and arguments and ignores quotes, so a
    program path with a space ("C:/Users/Ann Lee/...", "Program Files") must not go into ``script``: it goes
    into ``executable`` (which pyshortcuts quotes on Windows; on macOS it lands in a shell command, so it is
    shell-quoted here), or, on Windows when it is this very executable (a frozen bundle), ``script`` is
    pyshortcuts' ``"_"`` placeholder for ``sys.executable``. Arguments must not contain spaces.
    """
    if not command:
        raise DesktopError("The launcher command is empty; pass the program to run.")
    on_windows = is_windows() if on_windows is None else on_windows
    program, args = command[0], list(command[1:])
    if any(" " in arg for arg in args):
        raise DesktopError(f"Shortcut arguments cannot contain spaces (pyshortcuts splits them): {args}")
    if args:
        executable = program if on_windows or " " not in program else shlex.quote(program)
        return " ".join(args), executable
    is_this_executable = os.path.normcase(os.path.abspath(program)) == os.path.normcase(os.path.abspath(sys.executable))
    if on_windows and is_this_executable:
        return "_", None
    if " " in program:
        raise DesktopError(
            f"The program {program!r} has a space in its path, which a pyshortcuts shortcut cannot start "
            "without arguments; move it to a folder without spaces or create the shortcut by hand."
        )
    return program, None


def install(command: list[str]) -> list[Path]:
    """Make the Start Menu shortcut (Windows) or Desktop application (macOS) for ``command``; return it."""
    ps = _pyshortcuts()
    on_mac = sys.platform == "darwin"
    script, executable = pyshortcuts_script(command)
    scut = ps.make_shortcut(
        script, name=DISPLAY_NAME, description=DESCRIPTION, icon=_native_icon(),
        terminal=False, desktop=on_mac, startmenu=not on_mac, executable=executable,
    )
    folders = [getattr(scut, "desktop_dir", "") if on_mac else getattr(scut, "startmenu_dir", "")]
    written = _shortcut_files(scut, folders)
    if not written:
        raise DesktopError(f"pyshortcuts reported success but no shortcut was found in {folders}; create it by hand.")
    return written


def uninstall() -> list[Path]:
    """Remove the shortcuts :func:`install` makes; return what was removed."""
    ps = _pyshortcuts()
    folders = ps.get_folders()
    names = [f"{DISPLAY_NAME}.lnk", f"{DISPLAY_NAME}.app"]
    removed = []
    for folder in (folders.startmenu, folders.desktop):
        for name in names:
            path = Path(folder) / name if folder else None
            if path is not None and path.exists():
                shutil.rmtree(path) if path.is_dir() else path.unlink()
                removed.append(path)
    return removed
