"""The per-user start-menu entry: install and remove it (no Qt here).

Linux: a freedesktop ``.desktop`` file rendered from ``packaging/linux/adalora-studio.desktop.in`` goes to
``$XDG_DATA_HOME/applications`` (default ``~/.local/share``) and the icon to the hicolor theme at every
standard size, then ``update-desktop-database`` / ``gtk-update-icon-cache`` refresh the menus where they
exist. Windows and macOS: a Start Menu shortcut / an application bundle made by ``pyshortcuts`` (optional
dependency; without it a clear error says what to install), in :mod:`adalora_studio.app.shortcuts`.

``install_desktop()`` returns the files it wrote; ``uninstall_desktop()`` removes exactly those files.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ..core import paths
from ..core.atomic import atomic_write_bytes, atomic_write_text
from . import shortcuts
from .identity import APP_ID, DesktopError

log = logging.getLogger(__name__)

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
LAUNCHER = "adalora-studio"
TEMPLATE_NAME = "adalora-studio.desktop.in"
_REFRESH_TIMEOUT_S = 30

# Characters that force an Exec argument into double quotes (Desktop Entry spec, "The Exec key").
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


# ------------------------------------------------------------------ locations


def data_home() -> Path:
    """``$XDG_DATA_HOME`` or ``~/.local/share`` (an empty or relative value is ignored, as the spec says)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".local" / "share"


def desktop_file_path(base: Path | None = None) -> Path:
    """Where the ``.desktop`` file goes under ``base`` (default: :func:`data_home`)."""
    return (base or data_home()) / "applications" / f"{APP_ID}.desktop"


def icon_targets(base: Path | None = None) -> dict[Path, Path]:
    """Installed icon path -> source file in ``resources/icons``, for every size plus the SVG."""
    hicolor = (base or data_home()) / "icons" / "hicolor"
    icons = paths.resources_dir() / "icons"
    targets = {
        hicolor / f"{size}x{size}" / "apps" / f"{APP_ID}.png": icons / f"{APP_ID}-{size}.png"
        for size in ICON_SIZES
    }
    targets[hicolor / "scalable" / "apps" / f"{APP_ID}.svg"] = icons / f"{APP_ID}.svg"
    return targets


def linux_entry_files(base: Path | None = None) -> list[Path]:
    """Every file :func:`install_desktop` writes on Linux under ``base``, the ``.desktop`` file first."""
    return [desktop_file_path(base), *icon_targets(base)]


def is_installed(base: Path | None = None) -> bool:
    """Whether the Linux menu entry exists (on other systems: always False; ask pyshortcuts' folders)."""
    return sys.platform.startswith("linux") and desktop_file_path(base).is_file()


def template_path() -> Path:
    """The ``.desktop`` template: in the PyInstaller bundle, a built wheel (copied there by ``setup.py``) or
    the source checkout (``packaging/linux``, the source of truth)."""
    candidates = []
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        candidates.append(Path(frozen_root) / "packaging" / "linux" / TEMPLATE_NAME)
    here = Path(__file__).resolve()
    candidates.append(here.parents[1] / "resources" / "linux" / TEMPLATE_NAME)
    candidates.append(here.parents[2] / "packaging" / "linux" / TEMPLATE_NAME)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise DesktopError(
        f"The desktop entry template {TEMPLATE_NAME} was not found (looked in: "
        + ", ".join(str(c) for c in candidates)
        + "). Reinstall AdaLoRA Studio (`pip install .` or `pip install -e .` in a source checkout) or use the bundle."
    )


# ------------------------------------------------------------------ the command the entry runs


def launcher_command() -> list[str]:
    """The absolute command line that starts the app.

    The bundle's own executable when frozen; else the ``adalora-studio`` launcher next to this Python
    (the same virtual environment) or on PATH; else ``<this python> -m adalora_studio`` when the package is
    installed for that Python. Raises :class:`DesktopError` when nothing could start the app from a menu.
    """
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).resolve())]
    names = [LAUNCHER + ".exe", LAUNCHER] if os.name == "nt" else [LAUNCHER]
    for name in names:
        beside = Path(sys.executable).parent / name
        if beside.is_file() and os.access(beside, os.X_OK):
            return [str(beside.absolute())]
    found = shutil.which(LAUNCHER)
    if found:
        return [str(Path(found).absolute())]
    python = str(Path(sys.executable).absolute())
    if not _installed_for(python):
        raise DesktopError(
            f"AdaLoRA Studio is not installed in the Python environment {sys.prefix}, so a menu entry could "
            "not start it. Install it first (in the source checkout: `make setup` or `pip install -e .`) "
            "and run `adalora-studio install-desktop` again."
        )
    return [python, "-m", "adalora_studio"]


def _installed_for(python: str) -> bool:
    """Whether ``python -m adalora_studio`` works from anywhere (not only from inside a checkout)."""
    try:
        done = subprocess.run([python, "-I", "-c", "import adalora_studio"], cwd=Path.home(),
                              capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def quote_exec_arg(arg: str) -> str:
    """Quote one argument for an ``Exec`` line (Desktop Entry spec 1.4, "The Exec key")."""
    if not arg:
        return '""'
    arg = arg.replace("%", "%%")
    if not any(ch in _RESERVED for ch in arg):
        return arg
    escaped = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
    return f'"{escaped}"'


def exec_line(command: Sequence[str]) -> str:
    """The ``Exec`` value for ``command`` as it appears in the file (string-level escapes applied)."""
    if not command:
        raise DesktopError("The launcher command is empty; pass the program to run.")
    if "\n" in "".join(command):
        raise DesktopError("The launcher command contains a line break, which a .desktop file cannot hold.")
    joined = " ".join(quote_exec_arg(arg) for arg in command)
    return joined.replace("\\", "\\\\")  # the string type's own escape, applied after the Exec quoting


def parse_exec(value: str) -> list[str]:
    """Split an ``Exec`` value as read from the file back into the argument list (inverse of :func:`exec_line`)."""
    escapes = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    text, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value) and value[i + 1] in escapes:
            text.append(escapes[value[i + 1]])
            i += 2
        else:
            text.append(value[i])
            i += 1
    s = "".join(text)
    args: list[str] = []
    current: list[str] = []
    quoted = started = False
    i = 0
    while i < len(s):
        ch = s[i]
        if quoted:
            if ch == "\\" and i + 1 < len(s) and s[i + 1] in '"`$\\':
                current.append(s[i + 1])
                i += 1
            elif ch == '"':
                quoted = False
            else:
                current.append(ch)
        elif ch == '"':
            quoted = started = True
        elif ch == " ":
            if current or started:
                args.append("".join(current))
            current, started = [], False
        else:
            current.append(ch)
        i += 1
    if quoted:
        raise DesktopError(f"Exec value {value!r} has an unterminated double quote.")
    if current or started:
        args.append("".join(current))
    return [arg.replace("%%", "%") for arg in args]


def render_desktop_entry(command: Sequence[str], icon: str = APP_ID, template: Path | None = None) -> str:
    """The ``.desktop`` file text for ``command`` (an absolute program path and its arguments)."""
    program = command[0] if command else ""
    if not os.path.isabs(program):
        raise DesktopError(f"The launcher {program!r} is not an absolute path; menus need one to start the app.")
    text = (template or template_path()).read_text(encoding="utf-8")
    values = {
        "@EXEC@": exec_line(command),
        "@TRYEXEC@": program.replace("\\", "\\\\"),
        "@ICON@": icon,
        "@WMCLASS@": APP_ID,
    }
    for key, value in values.items():
        text = text.replace(key, value)
    return text


# ------------------------------------------------------------------ install / uninstall


def install_desktop(
    command: Sequence[str] | None = None, base: Path | None = None, refresh: bool = True
) -> list[Path]:
    """Add AdaLoRA Studio to the user's start menu; return the files written.

    ``command`` defaults to :func:`launcher_command` (Linux) or :func:`shortcut_command`
    (Windows / macOS); ``base`` (Linux) to :func:`data_home`; ``refresh``
    runs the menu cache tools where they are installed. Raises :class:`DesktopError` with what to do.
    """
    if sys.platform.startswith("linux") or base is not None:
        return _install_linux(list(command) if command else launcher_command(), base or data_home(), refresh)
    return shortcuts.install(list(command) if command else shortcut_command())


def uninstall_desktop(base: Path | None = None, refresh: bool = True) -> list[Path]:
    """Remove the start-menu entry and icons :func:`install_desktop` wrote; return the files removed."""
    if sys.platform.startswith("linux") or base is not None:
        return _uninstall_linux(base or data_home(), refresh)
    return shortcuts.uninstall()


def _install_linux(command: list[str], base: Path, refresh: bool) -> list[Path]:
    text = render_desktop_entry(command)
    missing = [str(src) for src in icon_targets(base).values() if not src.is_file()]
    if missing:
        raise DesktopError(
            "Icon files are missing: " + ", ".join(missing)
            + ". Run `python packaging/render_icons.py` in the source checkout, or reinstall the app."
        )
    written: list[Path] = []
    try:
        for target, source in icon_targets(base).items():
            atomic_write_bytes(target, source.read_bytes())
            written.append(target)
        entry = desktop_file_path(base)
        atomic_write_text(entry, text)
        entry.chmod(0o755)  # some file managers only trust executable launchers on the desktop
        written.insert(0, entry)
    except OSError as exc:
        for path in written:  # leave nothing half-installed
            path.unlink(missing_ok=True)
        raise DesktopError(f"Could not write the menu entry under {base}: {exc}. Check that it is writable.") from exc
    if refresh:
        refresh_caches(base)
    log.info("Installed the menu entry %s (Exec=%s)", desktop_file_path(base), " ".join(command))
    return written


def _uninstall_linux(base: Path, refresh: bool) -> list[Path]:
    removed: list[Path] = []
    for path in linux_entry_files(base):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise DesktopError(f"Could not remove {path}: {exc}. Remove it by hand.") from exc
        removed.append(path)
        _remove_empty_icon_dirs(path, base)
    if refresh and removed:
        refresh_caches(base)
    log.info("Removed %d menu entry files under %s", len(removed), base)
    return removed


def _remove_empty_icon_dirs(path: Path, base: Path) -> None:
    """Drop ``hicolor/<size>/apps`` and ``hicolor/<size>`` when our icon was the last file in them."""
    hicolor = base / "icons" / "hicolor"
    if hicolor not in path.parents:
        return
    for folder in (path.parent, path.parent.parent):
        try:
            folder.rmdir()
        except OSError:
            return


def refresh_caches(base: Path) -> list[str]:
    """Run ``update-desktop-database`` and, where the theme has an index, ``gtk-update-icon-cache``.

    Tools that are not installed are skipped (menus then rescan on their own); a failing tool is logged,
    not raised, because the entry itself is already in place. Returns the tools that ran.
    """
    ran = []
    jobs = [("update-desktop-database", [str(base / "applications")])]
    hicolor = base / "icons" / "hicolor"
    if (hicolor / "index.theme").is_file():
        jobs.append(("gtk-update-icon-cache", ["--quiet", "--force", str(hicolor)]))
    for tool, args in jobs:
        exe = shutil.which(tool)
        if not exe:
            continue
        try:
            subprocess.run([exe, *args], check=True, capture_output=True, timeout=_REFRESH_TIMEOUT_S)
            ran.append(tool)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("%s failed (%s); the menu may update only after the next login", tool, exc)
    return ran


def shortcut_command() -> list[str]:
    """The command a Windows / macOS shortcut runs: the bundle's executable when frozen, else
    ``<python> -m adalora_studio`` with ``pythonw.exe`` on Windows (the console launcher would open a console
    window behind the app). Raises :class:`DesktopError` when the package is not installed for this Python."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).resolve())]
    launcher_command()  # raises with what to do when nothing could start the app
    python = Path(sys.executable).absolute()
    if shortcuts.is_windows() and python.with_name("pythonw.exe").is_file():
        python = python.with_name("pythonw.exe")
    return [str(python), "-m", "adalora_studio"]
