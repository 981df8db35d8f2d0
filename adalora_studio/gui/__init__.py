"""The PySide6 desktop app: the only package that imports Qt and pyqtgraph.

Kept free of heavy imports so that ``import adalora_studio.gui`` is instant; torch and friends are imported
lazily in the worker thread (:mod:`adalora_studio.gui.worker`).

PySide6 is pinned below 6.12: 6.12.0 returns ``None`` from void methods and ``True`` from ``Signal.emit``
without taking a reference, which on Python < 3.12 aborts the interpreter after a few thousand Qt calls
(``none_dealloc``). ``tests/gui/test_worker.py`` guards the pin.
"""
