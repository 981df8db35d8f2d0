"""How long the torch worker thread may keep Python's GIL while the GUI thread waits for it.

A thread that wants the GIL asks the holder to drop it and waits up to ``sys.getswitchinterval()`` (5 ms by
default) before it gets it; each time the event loop wakes for a timer, a repaint or a signal while the worker runs
Python code (loading a model, tokenising, building a dataset), it pays that wait once more, and a few of them in a
row add up to a visible stall. With 1 ms the playground's SmolLM2 load went from p99 21 ms / max 44 ms to p99 6 ms /
max 34 ms (``benchmarks/playground_responsiveness.py``). The worker loses nothing while the window is idle: the
interval only matters while another thread is waiting for the GIL.
"""

from __future__ import annotations

import sys

SWITCH_INTERVAL_S = 0.001
"""The GIL switch interval the app runs with (CPython's default is 0.005)."""


def keep_window_responsive() -> None:
    """What the app sets up once its QApplication exists, so that the worker thread cannot stall the window:
    garbage collection only on the GUI thread, in short pauses (:mod:`.gc_guard`), and the short GIL switch
    interval. The benchmarks call it too, to measure what the app does."""
    from .gc_guard import collect_on_gui_thread

    collect_on_gui_thread()  # never let the torch worker thread run a collection that destroys Qt objects
    sys.setswitchinterval(SWITCH_INTERVAL_S)  # for the whole process
