"""The PySide6 desktop app: the only package that imports Qt and pyqtgraph.

Kept free of imports so that ``import adalora_studio.gui`` is instant; torch and friends are imported lazily in
the worker thread (:mod:`adalora_studio.gui.worker`).
"""
