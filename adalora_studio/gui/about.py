"""Help > About: versions of everything that matters for a bug report, the device, and the folders in use.

Versions come from the installed packages' metadata (no heavy import). The device needs torch, which the GUI
thread never imports: the dialog asks the TorchWorker (``core.training.probe_devices``, the one device policy),
unless the caller already knows it, and fills the row in when the answer arrives.
"""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..app.logging_setup import current_log_file
from ..core import paths

PACKAGES = (("torch", "torch"), ("transformers", "transformers"), ("peft", "peft"),
            ("accelerate", "accelerate"), ("datasets", "datasets"))


def package_version(dist: str) -> str:
    """The installed version of distribution ``dist``, or "not installed"."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        module = sys.modules.get(dist)
        return str(getattr(module, "__version__", "not installed"))


def qt_versions() -> str:
    """``PySide6 x.y.z (Qt x.y.z)``."""
    import PySide6
    from PySide6.QtCore import qVersion

    return f"PySide6 {PySide6.__version__} (Qt {qVersion()})"


def device_summary() -> str:
    """Worker job: the device training would use here (CUDA GPU name, Apple MPS, or CPU with its threads)."""
    try:
        from ..core.training import probe_devices
    except ImportError as exc:  # pragma: no cover - torch missing from a broken install
        return f"unknown ({exc})"
    try:
        return probe_devices().describe()
    except ImportError:
        return "unknown (torch is not installed)"


def about_rows(device: str | None = None) -> list[tuple[str, str]]:
    """(label, value) pairs shown in the dialog and copied by its "Copy" button."""
    log_file = current_log_file()
    rows = [
        ("AdaLoRA Studio", __version__),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        *((label, package_version(dist)) for label, dist in PACKAGES),
        ("Qt", qt_versions()),
        ("Device", device or "checking…"),
        ("System", platform.platform()),
        ("Runs folder", str(paths.runs_dir())),
        ("Log folder", str(paths.log_dir())),
    ]
    if log_file is not None:
        rows.append(("Log file", str(log_file)))
    return rows


class AboutDialog(QDialog):
    """The About box. ``device``: the device if already known; else ``worker`` (a TorchWorker) is asked."""

    FOLDER_ROWS = ("Runs folder", "Log folder")

    def __init__(self, parent: QWidget | None = None, device: str | None = None, worker: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About AdaLoRA Studio")
        self._values: dict[str, QLabel] = {}

        logo = QLabel()
        logo.setPixmap(_logo_pixmap(96, self.devicePixelRatioF()))
        title = QLabel(f"<h2>AdaLoRA Studio {__version__}</h2>"
                       "<p>Fine-tune Hugging Face models with AdaLoRA and watch the rank budget move.</p>")
        title.setWordWrap(True)
        header = QHBoxLayout()
        header.addWidget(logo)
        header.addWidget(title, 1)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        for label, value in about_rows(device):
            widget = QLabel()
            widget.setObjectName(f"about_{label.lower().replace(' ', '_')}")
            widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
            widget.setWordWrap(True)
            self._values[label] = widget
            self._set_value(label, value)
            form.addRow(f"{label}:", widget)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy these versions and folders, e.g. for a bug report")
        self.copy_button.clicked.connect(self.copy_info)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)
        self._device_job: Any = None
        if device is None:
            self._ask_worker(worker)

    def value(self, label: str) -> str:
        """The plain text shown for row ``label`` (e.g. "torch")."""
        return self._values[label].property("plainValue")

    def as_text(self) -> str:
        """All rows as ``label: value`` lines."""
        return "\n".join(f"{label}: {self.value(label)}" for label in self._values)

    @Slot()
    def copy_info(self) -> None:
        """Put :meth:`as_text` on the clipboard."""
        QGuiApplication.clipboard().setText(self.as_text())
        self.copy_button.setText("Copied")

    def _set_value(self, label: str, value: str) -> None:
        widget = self._values[label]
        widget.setProperty("plainValue", value)
        if label in self.FOLDER_ROWS:
            url = QUrl.fromLocalFile(value).toString()
            widget.setText(f'<a href="{url}">{_escape(value)}</a>')
            widget.linkActivated.connect(self._open_folder)
        else:
            widget.setText(_escape(value))

    @Slot(str)
    def _open_folder(self, url: str) -> None:
        folder = Path(QUrl(url).toLocalFile())
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl(url))

    def _ask_worker(self, worker: Any) -> None:
        if worker is None:
            self._set_value("Device", "unknown (no worker to ask)")
            return
        self._device_job = worker.submit(device_summary)
        self._device_job.succeeded.connect(self._on_device)
        self._device_job.failed.connect(self._on_device_failed)  # bound slots: dropped if the dialog is deleted

    @Slot(object)
    def _on_device(self, device: str) -> None:
        self._device_job = None
        self._set_value("Device", str(device))

    @Slot(str, str)
    def _on_device_failed(self, message: str, _detail: str) -> None:
        self._on_device(f"unknown ({message})")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _logo_pixmap(size: int, ratio: float) -> QPixmap:
    from .theme import app_icon

    return app_icon().pixmap(QSize(size, size), ratio)


def show_about(parent: QWidget | None = None, device: str | None = None, worker: Any = None) -> AboutDialog:
    """Open the About dialog (non-blocking) and return it; ``worker`` is asked for the device if not given."""
    dialog = AboutDialog(parent, device, worker)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
