"""Work around a PySide6 6.12 reference-count bug on Python < 3.12.

PySide6/shiboken 6.12 returns ``None`` from every void method, and ``True`` from ``Signal.emit``, without taking
a reference (correct only where these singletons are immortal, i.e. Python 3.12+). On Python 3.11 each call
therefore drops one reference to ``None``/``True``; after a few thousand Qt calls the interpreter aborts with
``Fatal Python error: none_dealloc: deallocating None``. Giving the singletons a huge extra reference count
makes them effectively immortal, as Python 3.12 does itself. Measured: 200 ``QWidget.update()`` calls take
200 references from ``None``.
"""

from __future__ import annotations

import sys

_EXTRA_REFERENCES = 1 << 40
_applied = False


def make_singletons_immortal() -> bool:
    """Add a very large reference count to None, True and False on CPython < 3.12 (once). True if applied."""
    global _applied
    if _applied or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    import ctypes

    for obj in (None, True, False):
        # ob_refcnt is the first field of every CPython object header (a Py_ssize_t).
        ctypes.c_ssize_t.from_address(id(obj)).value += _EXTRA_REFERENCES
    _applied = True
    return True
