"""Garbage collection only on the GUI thread, in short pauses.

Python's cyclic collector runs in whichever thread happens to allocate when a threshold is crossed. If it frees a
cycle holding a Qt object while the torch worker thread is running, the Qt destructor runs on the worker thread
and PySide's call back into Python can deadlock against the GUI thread (seen: the worker stuck in
``Shiboken::GilState::acquire`` inside ``QObject::~QObject`` during a model load). So automatic collection is off
and a GUI-thread timer collects instead.

A collection holds the GIL, whichever thread runs it, and takes time in proportion to the objects it looks at.
Once torch, transformers and peft are imported the heap holds ~400k tracked objects, and one full collection over
it stops the window for 300-500 ms (pyqtgraph's ``GarbageCollector``, which this replaces, ran one every ~100
young collections, and its 1 s timer let the young generation grow to the 600k objects of a torch import: a
300 ms pause of its own). :class:`GuiThreadCollector` keeps every routine pause short:

- every ``interval_s`` (50 ms) it collects the young generations when enough objects were allocated, so each
  collection looks at ~50 ms of allocations;
- objects that survived two young collections are moved out of the collector's sight with :func:`gc.freeze`
  (the imported modules and loaded models are long-lived: looking at them again finds nothing); after a bulk
  allocation (an import, a model load: more than ``BULK_OBJECTS`` new objects in one interval) the survivors are
  frozen at the first tick, so no collection looks at more than one interval of such allocations;
- cycles among frozen objects that became garbage later are reclaimed by one full collection
  (:meth:`GuiThreadCollector.reclaim`: unfreeze, collect, freeze) only when the process has been quiet for
  ``quiet_s`` (no job or run on the worker), the window is not in front of the user (another application is
  active, or it is minimised) and the frozen heap grew by a quarter since the last one (CPython's own rule for
  full collections), or at once past a million newly frozen objects.

That full collection is the one long pause left: over the ~400-490k objects of a session with torch,
transformers, peft and a loaded model it took 310-420 ms and found 0-283 unreachable objects (a dropped model is
freed by reference counting: it holds no cycles). So it waits until nobody can see the window stop.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from typing import Any

_guard: Any = None

YOUNG_THRESHOLD = 700
"""Allocations (minus deallocations) since the last collection above which a tick collects (CPython's gen-0
threshold)."""
OLDER_EVERY = 4
"""Every this many young collections, generation 1 is collected too and its survivors are frozen."""
BULK_OBJECTS = 10_000
"""Objects allocated since the last tick above which the tick collects generation 1 and freezes at once: a model
load or an import keeps most of what it allocates, and collecting four ticks of that at a time (the regular
cadence) cost 26-37 ms on the GUI thread; one tick's worth costs a quarter of it."""
RECLAIM_GROWTH = 0.25
"""A quiet process reclaims once the frozen heap grew by this share since the last reclaim (CPython's rule)."""
RECLAIM_FORCED_OBJECTS = 1_000_000
"""Objects frozen since the last reclaim above which it runs even while busy (a safety valve against a leak)."""
FORCED_CHECK_EVERY = 200
"""Freezes between two checks of that valve (~40 s of steady allocation at the default interval)."""


class GuiThreadCollector:
    """The cyclic garbage collector driven from a GUI-thread timer; :meth:`tick` holds the whole policy.

    ``busy`` callables (:meth:`watch`, e.g. a TorchWorker's ``busy``) say whether work is under way: the full
    collection waits until none has been busy for ``quiet_s``. :func:`gc.get_freeze_count` walks the whole frozen
    heap, so it is read once per quiet period and once every ``FORCED_CHECK_EVERY`` freezes, never per tick.
    """

    def __init__(self, interval_s: float = 0.05, quiet_s: float = 10.0, start_timer: bool = True,
                 unseen: Callable[[], bool] | None = None) -> None:
        self.interval_s = interval_s
        self.unseen = unseen or window_unseen
        """Whether a long pause would go unnoticed now (default: :func:`window_unseen`)."""
        self.quiet_ticks_needed = max(1, round(quiet_s / interval_s))
        self.quiet_ticks = 0
        self.young_collections = 0
        self.freezes = 0
        self.frozen_after_reclaim = gc.get_freeze_count()
        self.reclaims = 0
        self._checked_this_quiet = False
        self._busy: list[Callable[[], bool]] = []
        self.timer: Any = None
        gc.disable()
        if start_timer:
            from PySide6.QtCore import QTimer

            self.timer = QTimer()
            self.timer.setInterval(max(1, round(interval_s * 1000)))
            self.timer.timeout.connect(self.tick)
            self.timer.start()

    def watch(self, owner: object, busy: Callable[[object], bool]) -> None:
        """Count the process as busy while ``busy(owner)`` is true (no full collection then); ``owner`` is held
        weakly, e.g. ``watch(worker, lambda w: w.busy)``."""
        ref = weakref.ref(owner)
        self._busy.append(lambda: (o := ref()) is not None and busy(o))

    def tick(self) -> str:
        """One timer tick; returns what it did: ``""``, ``"young"``, ``"young+freeze"`` or ``"reclaim"``."""
        if any(busy() for busy in self._busy):
            self.quiet_ticks, self._checked_this_quiet = 0, False
        else:
            self.quiet_ticks += 1
        allocated = gc.get_count()[0]
        if allocated <= YOUNG_THRESHOLD:
            if self.quiet_ticks >= self.quiet_ticks_needed and not self._checked_this_quiet and self.unseen():
                self._checked_this_quiet = True
                if self._grown() > RECLAIM_GROWTH * max(self.frozen_after_reclaim, 10_000):
                    self.reclaim()
                    return "reclaim"
            return ""
        self.young_collections += 1
        if self.young_collections % OLDER_EVERY and allocated < BULK_OBJECTS:
            gc.collect(0)
            return "young"
        gc.collect(1)
        gc.freeze()  # the survivors of generation 1 (now in generation 2) leave the collector's sight
        self.freezes += 1
        if self.freezes % FORCED_CHECK_EVERY == 0 and self._grown() > RECLAIM_FORCED_OBJECTS:
            self.reclaim()
            return "reclaim"
        return "young+freeze"

    def _grown(self) -> int:
        return gc.get_freeze_count() - self.frozen_after_reclaim

    def reclaim(self) -> int:
        """One full collection over every object, frozen ones included (the one long pause); returns the number
        of unreachable objects found."""
        gc.unfreeze()
        found = gc.collect(2)
        gc.freeze()
        self.frozen_after_reclaim = gc.get_freeze_count()
        self.reclaims += 1
        return found

    def stop(self) -> None:
        """Stop the timer and give collection back to Python (tests; the app keeps it for its lifetime)."""
        if self.timer is not None:
            self.timer.stop()
        gc.unfreeze()
        gc.enable()


def window_unseen() -> bool:
    """True when the user cannot see the window stop for a moment: another application is active, or no window
    of this one is shown other than minimised."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.applicationState() != Qt.ApplicationState.ApplicationActive:
        return True
    shown = [w for w in QGuiApplication.topLevelWindows() if w.isVisible()]
    return all(w.windowStates() & Qt.WindowState.WindowMinimized for w in shown)


def watch_busy(owner: object, busy: Callable[[object], bool]) -> None:
    """:meth:`GuiThreadCollector.watch` on the installed collector; nothing when none is installed (tests)."""
    if _guard is not None:
        _guard.watch(owner, busy)


def collect_on_gui_thread(interval_s: float = 0.05) -> GuiThreadCollector:
    """Install the GUI-thread collector once per process (call after the QApplication exists); returns it."""
    global _guard
    if _guard is None:
        _guard = GuiThreadCollector(interval_s)
    return _guard
