"""Build hook: ship the top-level ``resources/`` folder and the ``.desktop`` template inside the package.

``resources/`` (icons, demo data) and ``packaging/linux/adalora-studio.desktop.in`` stay the source of truth in
the checkout; a built wheel (``pip install .``, ``pip wheel .``) carries copies under
``adalora_studio/resources/`` (the template under ``adalora_studio/resources/linux/``), where
``core.paths.resources_dir()`` and ``desktop.template_path()`` look for them. Editable installs
(``pip install -e .``) copy nothing: they read the checkout's folders directly.
All metadata lives in ``pyproject.toml``; ``MANIFEST.in`` puts the same files into the sdist.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PACKAGE = "adalora_studio"
SHIPPED_DIR = "resources"
TEMPLATE = Path("packaging") / "linux" / "adalora-studio.desktop.in"


def shipped_files() -> dict[str, Path]:
    """Path inside the package folder (``resources/...``) -> source file in the checkout."""
    files: dict[str, Path] = {}
    source = ROOT / "resources"
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            files[f"{SHIPPED_DIR}/{path.relative_to(source).as_posix()}"] = path
    files[f"{SHIPPED_DIR}/linux/{TEMPLATE.name}"] = ROOT / TEMPLATE
    return files


class BuildPyWithResources(build_py):
    """``build_py`` that also copies :func:`shipped_files` into the built package (not in editable mode)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        files = shipped_files()
        missing = [str(src) for src in files.values() if not src.is_file()]
        if missing or not any(name.startswith(f"{SHIPPED_DIR}/demo/") for name in files):
            raise SystemExit(f"adalora-studio build: resources are missing from the source tree: {missing or 'demo/'}")
        for name, src in files.items():
            target = Path(self.build_lib) / PACKAGE / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:  # type: ignore[override]
        outputs = list(super().get_outputs(include_bytecode))
        if not getattr(self, "editable_mode", False):
            outputs += [str(Path(self.build_lib) / PACKAGE / name) for name in shipped_files()]
        return outputs


setup(cmdclass={"build_py": BuildPyWithResources})
