"""Help > About shows the real versions, the device and the folders in use."""

from __future__ import annotations

import platform

import PySide6
import pytest
from PySide6.QtCore import qVersion
from PySide6.QtGui import QGuiApplication

from adalora_studio import __version__
from adalora_studio.app.logging_setup import setup_logging
from adalora_studio.core import paths
from adalora_studio.gui.about import AboutDialog
from adalora_studio.gui.worker import TorchWorker


@pytest.fixture
def worker(qtbot):  # type: ignore[no-untyped-def]
    w = TorchWorker()
    yield w
    assert w.shutdown(10_000)


def test_about_lists_real_versions_device_and_folders(qtbot, worker) -> None:  # type: ignore[no-untyped-def]
    import peft
    import torch
    import transformers

    log_file = setup_logging("gui")
    dialog = AboutDialog(worker=worker)
    qtbot.addWidget(dialog)
    dialog.show()

    assert dialog.value("AdaLoRA Studio") == __version__
    assert dialog.value("Python").startswith(platform.python_version())
    assert dialog.value("torch") == torch.__version__
    assert dialog.value("transformers") == transformers.__version__
    assert dialog.value("peft") == peft.__version__
    assert dialog.value("Qt") == f"PySide6 {PySide6.__version__} (Qt {qVersion()})"
    assert dialog.value("Runs folder") == str(paths.runs_dir())
    assert dialog.value("Log folder") == str(paths.log_dir())
    assert dialog.value("Log file") == str(log_file)

    qtbot.waitUntil(lambda: dialog.value("Device") != "checking…", timeout=60_000)
    expected = "CUDA GPU" if torch.cuda.is_available() else "CPU ("
    assert dialog.value("Device").startswith(expected)

    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert f"torch: {torch.__version__}" in copied and f"Runs folder: {paths.runs_dir()}" in copied


def test_device_given_by_the_worker_is_shown_as_is(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = AboutDialog(device="CUDA GPU 0: Example (CUDA 12.4)")
    qtbot.addWidget(dialog)
    assert dialog.value("Device") == "CUDA GPU 0: Example (CUDA 12.4)"


@pytest.mark.parametrize("label", ["Runs folder", "Log folder"])
def test_folders_are_links(qtbot, label: str) -> None:  # type: ignore[no-untyped-def]
    dialog = AboutDialog(device="CPU")
    qtbot.addWidget(dialog)
    assert dialog._values[label].text().startswith('<a href="file://')


def test_about_never_imports_torch_on_the_gui_thread() -> None:
    """A fresh interpreter records which thread imports torch: the About dialog asks the worker for the device."""
    import subprocess
    import sys
    from pathlib import Path

    code = """
import importlib.abc, sys, threading
seen = []
class Spy(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            seen.append(threading.current_thread() is threading.main_thread())
        return None
sys.meta_path.insert(0, Spy())
from PySide6.QtWidgets import QApplication
app = QApplication([])
from adalora_studio.gui.about import AboutDialog
from adalora_studio.gui.worker import TorchWorker
worker = TorchWorker()
dialog = AboutDialog(worker=worker)
dialog.show()
from PySide6.QtCore import QElapsedTimer
timer = QElapsedTimer(); timer.start()
while dialog.value("Device") == "checking\u2026" and timer.elapsed() < 60000:
    app.processEvents()
print("device", dialog.value("Device"))
print("gui-thread-imports", any(seen), "worker-imports", seen.count(False) > 0)
worker.shutdown(10000)
"""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=120,
                         env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(line.startswith("device CPU (") or line.startswith("device CUDA GPU") for line in lines), lines
    # the worker looks torch up (its native-library preload) and imports it; the GUI thread never does either
    assert "gui-thread-imports False worker-imports True" in lines, lines
