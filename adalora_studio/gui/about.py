"""Help > About: versions of everything that matters for a bug report, the device, and the folders in use.

Versions come from the installed packages' metadata (no heavy import); the device needs torch, which is
imported only when the dialog opens, after it is on screen (or read from the worker if it already has it).
"""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Slot
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


def detect_device() -> str:
    """The device training would use here: CUDA GPU name, Apple MPS, or CPU with its thread count."""
    try:
        import torch
    except ImportError:
        return "unknown (torch is not installed)"
    if torch.cuda.is_available():
        index = torch.cuda.current_device()
        return f"CUDA GPU {index}: {torch.cuda.get_device_name(index)} (CUDA {torch.version.cuda})"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "Apple GPU (MPS)"
    return f"CPU ({torch.get_num_threads()} threads)"


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
    """The About box. ``device``: what the worker reports, if known; else it is detected after showing."""

    FOLDER_ROWS = ("Runs folder", "Log folder")

    def __init__(self, parent: QWidget | None = None, device: str | None = None) -> None:
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
        if device is None:
            QTimer.singleShot(0, self._detect_device)

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

    @Slot()
    def _detect_device(self) -> None:
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            device = detect_device()
        finally:
            QGuiApplication.restoreOverrideCursor()
        self._set_value("Device", device)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _logo_pixmap(size: int, ratio: float) -> QPixmap:
    from .theme import app_icon

    return app_icon().pixmap(QSize(size, size), ratio)


def show_about(parent: QWidget | None = None, device: str | None = None) -> AboutDialog:
    """Open the About dialog (non-blocking) and return it."""
    dialog = AboutDialog(parent, device)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
