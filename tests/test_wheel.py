"""A built wheel (``pip install .``, not ``-e``) carries the icons, demo data and ``.desktop`` template, and the
installed package finds them inside itself rather than in a source checkout."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ("adalora_studio", "resources", "packaging", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the sources (nothing is written into the checkout)."""
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("wheel")
    # With setuptools in this venv (Python <= 3.11 venvs have it) no network is needed; else pip fetches it.
    offline = ["--no-build-isolation", "--no-index"] if importlib.util.find_spec("setuptools") else []
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", *offline, "-q", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = out.glob("adalora_studio-*.whl")
    return built


def test_wheel_ships_every_resource_and_the_desktop_template(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"adalora_studio/resources/{p.relative_to(ROOT / 'resources').as_posix()}"
        for p in (ROOT / "resources").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    expected.add("adalora_studio/resources/linux/adalora-studio.desktop.in")
    assert expected <= names, sorted(expected - names)
    for must in ("demo/support_tickets.csv", "demo/instructions.jsonl", "icons/adalora-studio-48.png"):
        assert f"adalora_studio/resources/{must}" in names


def test_installed_wheel_finds_its_own_resources_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(site)  # a pure-Python wheel unpacked is its installed layout
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "from adalora_studio.core import paths; from adalora_studio.app import desktop;"
        "print(json.dumps({'pkg': paths.__file__, 'res': str(paths.resources_dir()),"
        " 'csv': str(paths.demo_classification_file()), 'jsonl': str(paths.demo_causal_lm_file()),"
        " 'template': str(desktop.template_path()),"
        " 'icons': [str(s) for s in desktop.icon_targets(desktop.Path(sys.argv[2])).values()]}))"
    )
    done = subprocess.run([sys.executable, "-I", "-c", code, str(site), str(tmp_path / "xdg")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert Path(found["pkg"]).is_relative_to(site), found
    for key in ("res", "csv", "jsonl", "template"):
        assert Path(found[key]).is_relative_to(site / "adalora_studio"), (key, found)
        assert Path(found[key]).exists(), (key, found)
    assert all(Path(icon).is_file() and Path(icon).is_relative_to(site) for icon in found["icons"])
    shipped = Path(found["csv"]).read_bytes()
    assert shipped == (ROOT / "resources" / "demo" / "support_tickets.csv").read_bytes()
