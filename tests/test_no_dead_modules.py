"""Every module of the package is used: imported by another module, an entry point, a script or a benchmark."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "adalora_studio"
ENTRY_POINTS = {"adalora_studio", "adalora_studio.__main__"}
USERS = ("adalora_studio", "scripts", "benchmarks", "packaging")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_names(path: Path) -> set[str]:
    name = _module_name(path)
    base = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            src = node.module or ""
            if node.level:
                parent = base
                for _ in range(node.level - 1):
                    parent = parent.rpartition(".")[0]
                src = f"{parent}.{src}" if src else parent
            found.add(src)
            found.update(f"{src}.{a.name}" for a in node.names)
    return found


def test_every_module_has_a_user() -> None:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    used: set[str] = set()
    for folder in USERS:
        for path in (ROOT / folder).rglob("*.py"):
            mine = _module_name(path) if folder == "adalora_studio" else ""
            used.update(n for n in _imported_names(path) if n != mine)
    unused = sorted(m for m in modules if m not in used and m not in ENTRY_POINTS)
    assert unused == [], f"modules nothing imports (delete them or use them): {unused}"
