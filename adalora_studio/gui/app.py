"""Application start-up: QApplication, theme, logging, crash handler, main window; nothing heavy.

Importing this module must not import torch, transformers, peft or datasets (a test checks it): the window has
to appear in well under a second, and those libraries load later, inside the worker thread.

``ADALORA_STUDIO_EXIT_AFTER_SHOWN=1`` prints ``window-shown <seconds since process start>`` when the window is
first shown and quits (used by ``benchmarks/gui_responsiveness.py`` and packaging smoke checks).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from ..app.identity import APP_ID

EXIT_AFTER_SHOWN_ENV = "ADALORA_STUDIO_EXIT_AFTER_SHOWN"

log = logging.getLogger(__name__)


def seconds_since_process_start() -> float:
    """Wall-clock seconds since this process started (from the OS where possible).

    On Linux this compares ``/proc/self/stat``'s start time with ``/proc/uptime`` (both since boot, 10 ms
    resolution); psutil's ``create_time`` is avoided there because it adds a whole-second boot-time rounding.
    """
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import psutil

        return max(0.0, time.time() - psutil.Process().create_time())
    except Exception:  # noqa: BLE001 - psutil missing or no permission: time since this module was imported
        return time.perf_counter() - _IMPORT_T0


_IMPORT_T0 = time.perf_counter()


def _application() -> QApplication:  # noqa: F821 - imported below
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from .. import __version__

    existing = QApplication.instance()
    if existing is not None:
        return existing  # type: ignore[return-value]
    QCoreApplication.setOrganizationName("AdaLoRA Studio")
    QCoreApplication.setApplicationName(APP_ID)
    QCoreApplication.setApplicationVersion(__version__)
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication(sys.argv[:1])
    QGuiApplication.setApplicationDisplayName("AdaLoRA Studio")
    QGuiApplication.setDesktopFileName(APP_ID)  # matches StartupWMClass of the desktop entry
    from .gil import keep_window_responsive

    keep_window_responsive()  # GUI-thread garbage collection, short GIL switch interval
    return app


def run_app(config_path: str | None = None, start: bool = False, open_run: str | None = None) -> int:
    """Open the main window and run the event loop; returns the exit code.

    ``config_path``: load that config into the wizard (its Review page), and with ``start`` start it at once.
    ``open_run``: replay a run folder in the dashboard.
    """
    from PySide6.QtCore import QTimer

    from ..app.logging_setup import setup_logging

    setup_logging("gui")
    app = _application()
    from .theme import app_icon, apply_theme

    apply_theme(app)
    app.setWindowIcon(app_icon())
    from .crash import install_crash_handler
    from .main_window import MainWindow

    window = MainWindow()
    crash_handler = install_crash_handler(lambda: window)
    if os.environ.get(EXIT_AFTER_SHOWN_ENV, "") not in ("", "0"):
        def report_and_quit() -> None:
            print(f"window-shown {seconds_since_process_start():.3f}", flush=True)
            QTimer.singleShot(0, app.quit)

        window.first_shown.connect(report_and_quit)
    else:
        window.first_shown.connect(lambda: _offer_desktop_entry(window))
    window.show()

    def open_requested() -> None:
        from ..core.config import load_config
        from ..core.errors import StudioError

        if open_run:
            window.open_run(open_run)
            return
        if config_path:
            try:
                cfg = load_config(config_path)
            except StudioError as exc:
                window.notify(f"Cannot open {config_path}:\n{exc}", warning=True)
                return
            if start:
                window.start_run(cfg)
            else:
                window.edit_config(cfg)
                window.wizard.review_page.saved_path = str(Path(config_path).resolve())

    if open_run or config_path:
        QTimer.singleShot(0, open_requested)
    code = app.exec()
    window.shutdown_worker()
    crash_handler.uninstall()
    return int(code)


def _offer_desktop_entry(window: object) -> None:
    try:
        from .first_run import offer_desktop_entry
    except ImportError as exc:  # the desktop integration is optional at runtime
        log.info("no first-run offer: %s", exc)
        return
    offer_desktop_entry(window, window.store)  # type: ignore[attr-defined]
