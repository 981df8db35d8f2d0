"""The training page's "Processes / GPUs" spin box, bound to ``training.processes``.

It defaults to the visible GPUs once the devices are probed (1 on CPU) until the user changes it; more than one
makes the app start the run as child processes (:mod:`adalora_studio.gui.launched_run`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QSpinBox, QWidget

from .page import tip
from .state import WizardState


class ProcessesSpin(QSpinBox):
    """``training.processes`` (1..64), following the config and the device probe."""

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.touched = False
        self._loading = False
        self.setRange(1, 64)
        self.setToolTip(tip("training", "processes"))
        self.setValue(state.config.training.processes)
        self.valueChanged.connect(self._on_edit)
        state.config_changed.connect(self._on_config)
        state.devices_changed.connect(self._on_devices)

    def _on_config(self, cfg: Any) -> None:
        if cfg.training.processes != self.value():
            self._loading = True
            self.setValue(cfg.training.processes)
            self._loading = False

    def _on_edit(self, value: int) -> None:
        if not self._loading:
            self.touched = True
            self.state.update("training", processes=int(value))

    def _on_devices(self, devices: dict[str, Any]) -> None:
        gpus = int(devices.get("cuda_count", 0)) if devices.get("cuda") else 0
        if not self.touched and self.state.config.training.device in ("auto", "cuda") and gpus > 1:
            self._loading = True
            self.setValue(gpus)
            self._loading = False
            self.state.update("training", processes=gpus)
