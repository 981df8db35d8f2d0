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


def test_about_lists_real_versions_device_and_folders(qtbot) -> None:  # type: ignore[no-untyped-def]
    import peft
    import torch
    import transformers

    log_file = setup_logging("gui")
    dialog = AboutDialog()
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
