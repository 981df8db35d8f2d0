"""The core (and the CLI) must never import Qt: run the import in a fresh interpreter and look."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QT_PREFIXES = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6")


def _modules_after(code: str) -> list[str]:
    script = f"import sys, json\nsys.path.insert(0, {str(ROOT)!r})\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _qt(mods: list[str]) -> list[str]:
    return [m for m in mods if m.split(".")[0] in QT_PREFIXES]


def test_core_imports_no_qt() -> None:
    core_dir = ROOT / "adalora_studio" / "core"
    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts) for p in core_dir.rglob("*.py"))
    assert len(modules) > 40  # every module of every core package, not only the top level
    code = "\n".join(f"import {name.removesuffix('.__init__')}" for name in modules)
    assert _qt(_modules_after(code)) == []


def test_cli_imports_no_qt() -> None:
    assert _qt(_modules_after("import adalora_studio.cli")) == []


def test_light_core_modules_do_not_import_torch() -> None:
    mods = _modules_after("import adalora_studio.core.config, adalora_studio.core.events, adalora_studio.core.paths")
    assert "torch" not in mods
