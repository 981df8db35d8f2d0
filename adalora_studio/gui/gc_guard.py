"""Garbage collection only on the GUI thread.

Python's cyclic collector runs in whichever thread happens to allocate when a threshold is crossed. If it frees a
cycle holding a Qt object while the torch worker thread is running, the Qt destructor runs on the worker thread
and PySide's call back into Python can deadlock against the GUI thread (seen: the worker stuck in
``Shiboken::GilState::acquire`` inside ``QObject::~QObject`` during a model load). pyqtgraph's
``GarbageCollector`` turns automatic collection off and collects on a GUI-thread timer instead.
"""

from __future__ import annotations

from typing import Any

_guard: Any = None


def collect_on_gui_thread(interval_s: float = 1.0) -> Any:
    """Install the GUI-thread collector once per process (call after the QApplication exists); returns it."""
    global _guard
    if _guard is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _guard = GarbageCollector(interval=interval_s)
    return _guard
