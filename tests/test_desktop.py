"""The per-user start-menu entry: exact files in, exact files out, and a .desktop file the spec accepts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adalora_studio.app import desktop
from adalora_studio.app import shortcuts as desktop_shortcuts
from adalora_studio.core import paths

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def _require_tool(name: str) -> str:
    """The tool's path; skip when absent on a developer machine, fail when absent in CI."""
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed (apt-get install -y desktop-file-utils)"
    if IN_CI:
        pytest.fail(message + "; CI must install it")
    pytest.skip(message)


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    base = tmp_path / "xdg data"
    monkeypatch.setenv("XDG_DATA_HOME", str(base))
    return base


@pytest.fixture
def launcher(tmp_path: Path) -> list[str]:
    """An absolute launcher path with a space and a dollar sign, to exercise Exec quoting."""
    exe = tmp_path / "bin dir" / "adalora-studio$x"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    return [str(exe), "--flag=100%"]


def test_install_then_uninstall_touches_exactly_the_expected_files(data_home: Path, launcher: list[str]) -> None:
    written = desktop.install_desktop(command=launcher, refresh=False)

    hicolor = data_home / "icons" / "hicolor"
    expected = {data_home / "applications" / "adalora-studio.desktop", hicolor / "scalable/apps/adalora-studio.svg"}
    expected |= {hicolor / f"{s}x{s}/apps/adalora-studio.png" for s in (16, 24, 32, 48, 64, 128, 256, 512)}
    assert set(written) == expected
    assert _files(data_home) == expected
    icons = paths.resources_dir() / "icons"
    assert (hicolor / "48x48/apps/adalora-studio.png").read_bytes() == (icons / "adalora-studio-48.png").read_bytes()

    removed = desktop.uninstall_desktop(refresh=False)
    assert set(removed) == expected
    assert _files(data_home) == set()
    assert not (hicolor / "48x48").exists()
    assert desktop.uninstall_desktop(refresh=False) == []


def test_refresh_tools_leave_only_their_own_caches(data_home: Path, launcher: list[str]) -> None:
    written = desktop.install_desktop(command=launcher, refresh=True)
    extra = _files(data_home) - set(written)
    assert {p.name for p in extra} <= {"mimeinfo.cache", "icon-theme.cache"}
    if shutil.which("update-desktop-database"):
        assert (data_home / "applications" / "mimeinfo.cache").is_file()
    desktop.uninstall_desktop(refresh=True)
    assert {p.name for p in _files(data_home)} <= {"mimeinfo.cache", "icon-theme.cache"}


def test_entry_has_the_keys_menus_need(data_home: Path, launcher: list[str]) -> None:
    desktop.install_desktop(command=launcher, refresh=False)
    text = (data_home / "applications" / "adalora-studio.desktop").read_text(encoding="utf-8")
    keys = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    assert keys["Name"] == "AdaLoRA Studio"
    assert keys["GenericName"] and keys["Comment"] and keys["Keywords"].endswith(";")
    assert keys["Categories"] == "Development;Science;"
    assert keys["StartupWMClass"] == "adalora-studio"
    assert keys["Icon"] == "adalora-studio"
    assert keys["Terminal"] == "false"
    # Exec quoting (spec: reserved characters force double quotes; $ " ` \ escaped; % doubled; then the
    # string-level backslash escape doubles every backslash).
    assert keys["Exec"] == f'"{launcher[0].replace("$", chr(92) * 2 + "$")}" --flag=100%%'
    assert desktop.parse_exec(keys["Exec"]) == launcher


def test_generated_file_passes_desktop_file_validate(data_home: Path, launcher: list[str]) -> None:
    tool = _require_tool("desktop-file-validate")
    desktop.install_desktop(command=launcher, refresh=False)
    entry = data_home / "applications" / "adalora-studio.desktop"
    result = subprocess.run([tool, str(entry)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in (result.stdout + result.stderr).lower(), result.stdout + result.stderr


def test_default_launcher_is_an_absolute_command_or_a_clear_error() -> None:
    try:
        command = desktop.launcher_command()
    except desktop.DesktopError as exc:  # an uninstalled checkout: nothing a menu could start
        assert "pip install -e ." in str(exc)
        return
    assert os.path.isabs(command[0]) and Path(command[0]).exists()
    if len(command) > 1:
        assert command[1:] == ["-m", "adalora_studio"]
    check = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=120, cwd=Path.home())
    assert check.stdout.startswith("adalora-studio "), check.stdout + check.stderr


def test_relative_launcher_is_refused(data_home: Path) -> None:
    with pytest.raises(desktop.DesktopError, match="absolute"):
        desktop.install_desktop(command=["adalora-studio"], refresh=False)
    assert not data_home.exists() or _files(data_home) == set()


def test_without_pyshortcuts_other_systems_get_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setitem(sys.modules, "pyshortcuts", None)  # make the import fail even if it is installed
    with pytest.raises(desktop.DesktopError, match="pip install pyshortcuts"):
        desktop.install_desktop(command=[str(Path(sys.executable).absolute())])


def test_desktop_and_logging_modules_import_no_qt_and_no_torch() -> None:
    root = Path(__file__).resolve().parents[1]
    code = (
        f"import sys; sys.path.insert(0, {str(root)!r}); "
        "import adalora_studio.app.desktop, adalora_studio.app.shortcuts, adalora_studio.app.logging_setup; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'torch', 'pyqtgraph')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_a_failed_install_leaves_nothing_behind(data_home: Path, launcher: list[str]) -> None:
    (data_home / "applications").mkdir(parents=True)
    (data_home / "applications" / "adalora-studio.desktop").mkdir()  # a folder where the file must go
    with pytest.raises(desktop.DesktopError, match="Could not write the menu entry"):
        desktop.install_desktop(command=launcher, refresh=False)
    assert _files(data_home) == set()


@pytest.mark.parametrize(
    ("command", "on_windows", "script", "executable"),
    [
        (["C:/Users/Ann Lee/venv/Scripts/pythonw.exe", "-m", "adalora_studio"], True, "-m adalora_studio",
         "C:/Users/Ann Lee/venv/Scripts/pythonw.exe"),  # pyshortcuts quotes executable itself on Windows
        (["/Users/Ann Lee/venv/bin/python", "-m", "adalora_studio"], False, "-m adalora_studio",
         "'/Users/Ann Lee/venv/bin/python'"),  # macOS puts it into a shell command
        (["/opt/app/adalora-studio"], False, "/opt/app/adalora-studio", None),
    ],
)
def test_pyshortcuts_never_gets_a_path_with_a_space_in_its_script(
    command: list[str], on_windows: bool, script: str, executable: str | None
) -> None:
    # pyshortcuts splits `script` at its first space (quotes ignored): a path with a space must not go there.
    assert desktop_shortcuts.pyshortcuts_script(command, on_windows=on_windows) == (script, executable)


def test_a_frozen_bundle_in_program_files_uses_the_sys_executable_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    exe = "C:/Program Files/AdaLoRA Studio/adalora-studio.exe"
    monkeypatch.setattr(sys, "executable", exe)
    assert desktop_shortcuts.pyshortcuts_script([exe], on_windows=True) == ("_", None)
    with pytest.raises(desktop.DesktopError, match="space"):
        desktop_shortcuts.pyshortcuts_script([exe], on_windows=False)


def test_windows_shortcut_runs_pythonw_and_reports_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, dict]] = []
    startmenu = tmp_path / "Start Menu"

    def make_shortcut(script: str, **kwargs: object) -> object:
        calls.append((script, kwargs))
        startmenu.mkdir()
        (startmenu / "AdaLoRA Studio.lnk").write_bytes(b"lnk")
        return type("Shortcut", (), {"target": "AdaLoRA Studio.lnk", "startmenu_dir": str(startmenu)})()

    scripts = tmp_path / "venv dir" / "Scripts"
    scripts.mkdir(parents=True)
    for name in ("python.exe", "pythonw.exe"):
        (scripts / name).write_bytes(b"")
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(desktop_shortcuts, "is_windows", lambda: True)
    monkeypatch.setattr(sys, "executable", str(scripts / "python.exe"))
    monkeypatch.setattr(desktop, "launcher_command", lambda: [str(scripts / "adalora-studio.exe")])
    monkeypatch.setitem(sys.modules, "pyshortcuts", type(sys)("pyshortcuts"))
    monkeypatch.setattr(sys.modules["pyshortcuts"], "make_shortcut", make_shortcut, raising=False)

    written = desktop.install_desktop()
    assert written == [startmenu / "AdaLoRA Studio.lnk"]
    ((script, kwargs),) = calls
    assert script == "-m adalora_studio" and kwargs["executable"] == str(scripts / "pythonw.exe")
    assert kwargs["terminal"] is False and kwargs["startmenu"] is True and kwargs["desktop"] is False
