"""The PySide6 desktop app: the only package that imports Qt and pyqtgraph.

Kept free of heavy imports so that ``import adalora_studio.gui`` is instant; torch and friends are imported
lazily in the worker thread (:mod:`adalora_studio.gui.worker`). Importing this package first applies the
PySide6 6.12 / Python 3.11 reference-count workaround (see :mod:`._refcount_guard`), so every GUI module is
covered whichever is imported first.
"""

from ._refcount_guard import make_singletons_immortal

make_singletons_immortal()
