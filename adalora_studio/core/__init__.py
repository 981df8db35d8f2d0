"""Qt-free core of AdaLoRA Studio.

Nothing under this package may import PySide6, shiboken6 or pyqtgraph; a test enforces it.
Heavy libraries (torch, transformers, peft, datasets) are imported inside the modules that need them,
never here, so that ``import adalora_studio.core`` stays cheap.
"""
