"""Uncaught exceptions from any thread: logged, then shown on the GUI thread in a dialog; the app keeps running.

:func:`install_crash_handler` replaces ``sys.excepthook`` (main thread, and Qt slots, which PySide6 reports
through it from whatever thread they run in) and ``threading.excepthook`` (Python threads). The hook runs in the
failing thread: it writes the traceback to the log file and to stderr, then hands a plain :class:`CrashReport`
to the GUI thread through a queued signal. Nothing exits, so a training run in another thread carries on and its
checkpoints and event log stay valid.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import shiboken6
from PySide6.QtCore import QObject, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from ..app.logging_setup import current_log_file

log = logging.getLogger(__name__)

SUMMARY_CHARS = 300


@dataclass(frozen=True)
class CrashReport:
    """One uncaught exception, as plain data (safe to pass between threads)."""

    summary: str
    """``ExceptionType: message``, shortened to one line."""
    details: str
    """The full traceback, with the thread's name."""
    thread_name: str
    log_file: Path | None


def make_report(
    exc_type: type[BaseException],
    exc: BaseException | None,
    tb: TracebackType | None,
    thread_name: str,
    log_file: Path | None = None,
) -> CrashReport:
    """Build a :class:`CrashReport` from the parts an except hook receives."""
    message = " ".join(str(exc).split()) if exc is not None else ""
    summary = f"{exc_type.__name__}: {message}" if message else exc_type.__name__
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1] + "…"
    trace = "".join(traceback.format_exception(exc_type, exc, tb))
    details = f"Uncaught exception in thread {thread_name!r}\n{trace}"
    return CrashReport(summary, details, thread_name, log_file)


class CrashDialog(QDialog):
    """Says what went wrong in one line, where the log is, and offers "Copy details".

    Later reports while it is open are added to it (one dialog, not a storm of them).
    """

    def __init__(self, report: CrashReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("crashDialog")
        self.setWindowTitle("AdaLoRA Studio: unexpected error")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.reports: list[CrashReport] = []

        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(48, 48))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.headline = QLabel()
        self.headline.setObjectName("crashHeadline")
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        reassurance = QLabel(
            "AdaLoRA Studio keeps running; nothing was closed. Training runs keep their checkpoints and "
            "event log on disk, so a run that stopped can be resumed. If this happens again, please report "
            "it with the details."
        )
        reassurance.setWordWrap(True)
        self.log_label = QLabel()
        self.log_label.setObjectName("crashLogPath")
        self.log_label.setWordWrap(True)
        self.log_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.log_label.linkActivated.connect(lambda url: QDesktopServices.openUrl(QUrl(url)))

        text = QVBoxLayout()
        text.addWidget(self.headline)
        text.addWidget(reassurance)
        text.addWidget(self.log_label)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addLayout(text, 1)

        self.details = QPlainTextEdit()
        self.details.setObjectName("crashDetails")
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setMinimumHeight(160)
        self.details.setVisible(False)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy details")
        self.copy_button.setObjectName("copyDetails")
        self.copy_button.clicked.connect(self.copy_details)
        self.toggle_button = QPushButton("Show details")
        self.toggle_button.setCheckable(True)
        self.toggle_button.toggled.connect(self._toggle_details)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.toggle_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)
        self.resize(600, 230)
        self.add_report(report)

    def add_report(self, report: CrashReport) -> None:
        """Show ``report`` (the newest one leads the headline; all are in the details)."""
        self.reports.append(report)
        count = len(self.reports)
        lead = "An unexpected error occurred" if count == 1 else f"{count} unexpected errors occurred"
        where = "" if report.thread_name == "MainThread" else f" (in thread “{report.thread_name}”)"
        self.headline.setText(f"<b>{lead}{where}:</b><br>{_escape(report.summary)}")
        if report.log_file is not None:
            url = QUrl.fromLocalFile(str(report.log_file.parent)).toString()
            self.log_label.setText(
                f"Details were written to the log file:<br><code>{_escape(str(report.log_file))}</code> "
                f"(<a href=\"{url}\">open folder</a>)"
            )
        else:
            self.log_label.setText("No log file is set up for this session; use “Copy details” to keep them.")
        self.details.setPlainText(self.details_text())

    def details_text(self) -> str:
        """Everything "Copy details" puts on the clipboard: version, log path and every traceback."""
        from .. import __version__

        head = [f"AdaLoRA Studio {__version__}, Python {sys.version.split()[0]} on {sys.platform}"]
        if self.reports and self.reports[-1].log_file is not None:
            head.append(f"Log file: {self.reports[-1].log_file}")
        return "\n".join(head) + "\n\n" + "\n".join(r.details for r in self.reports)

    @Slot()
    def copy_details(self) -> None:
        """Put the details on the clipboard."""
        QGuiApplication.clipboard().setText(self.details_text())
        self.copy_button.setText("Copied")

    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.toggle_button.setText("Hide details" if shown else "Show details")
        height = self.height() + (260 if shown else -self.details.height())
        self.resize(self.width(), max(height, self.minimumSizeHint().height()))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class CrashHandler(QObject):
    """Owns the except hooks and the dialog. Create it on the GUI thread.

    ``parent_window`` returns the window to parent the dialog on (or None). ``show_dialog=False`` only logs
    and emits :attr:`crashed` (for embedding or tests).
    """

    crashed = Signal(object)
    """A :class:`CrashReport`, delivered on the GUI thread after the dialog was shown."""
    _reported = Signal(object)

    def __init__(
        self, parent_window: Callable[[], QWidget | None] | None = None, show_dialog: bool = True
    ) -> None:
        super().__init__()
        self._parent_window = parent_window or (lambda: None)
        self._show_dialog = show_dialog
        self._previous: tuple[object, object] | None = None
        self.dialog: CrashDialog | None = None
        self._reported.connect(self._on_report, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        """Replace ``sys.excepthook`` and ``threading.excepthook`` (idempotent)."""
        if self._previous is None:
            self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self._sys_hook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        """Put the previous hooks back."""
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous  # type: ignore[assignment]
            self._previous = None

    def handle(
        self, exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None, thread: str
    ) -> CrashReport:
        """Log one exception (any thread) and queue it for the GUI thread; returns the report."""
        report = make_report(exc_type, exc, tb, thread, current_log_file())
        try:
            log.critical("%s", report.details.rstrip())
            traceback.print_exception(exc_type, exc, tb, file=sys.stderr)
        except Exception:  # noqa: BLE001 - the hook itself must never raise; the dialog still comes
            pass
        self._reported.emit(report)
        return report

    def _sys_hook(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.handle(exc_type, exc, tb, threading.current_thread().name)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else threading.current_thread().name
        self.handle(args.exc_type, args.exc_value, args.exc_traceback, name)

    @Slot(object)
    def _on_report(self, report: CrashReport) -> None:
        if self._show_dialog and QApplication.instance() is not None:
            dialog = self.dialog
            if dialog is not None and shiboken6.isValid(dialog) and dialog.isVisible():
                dialog.add_report(report)
            else:
                dialog = self.dialog = CrashDialog(report, self._parent_window())
                dialog.show()
            dialog.raise_()
            dialog.activateWindow()
        self.crashed.emit(report)


def install_crash_handler(
    parent_window: Callable[[], QWidget | None] | None = None, show_dialog: bool = True
) -> CrashHandler:
    """Create a :class:`CrashHandler` on the GUI thread and install its hooks; keep the returned object."""
    handler = CrashHandler(parent_window, show_dialog)
    handler.install()
    return handler
