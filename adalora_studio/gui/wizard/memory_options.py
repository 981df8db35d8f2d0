"""The training page's memory options: gradient checkpointing and a 4-bit base.

``training.gradient_checkpointing`` recomputes activations in the backward pass (less memory, slower steps, the
same results). ``model.load_in_4bit`` loads the base model in 4-bit NF4 through bitsandbytes: for causal LMs on a
CUDA GPU with the ``quant`` extra installed. While any of those is missing the box is disabled and says which;
a config that already asks for a 4-bit base keeps the box enabled so it can be switched off. A 4-bit base cannot
be exported merged (peft cannot fold an adapter into 4-bit weights); the LoRA export works.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QGroupBox, QLabel, QVBoxLayout, QWidget

from .page import tip
from .state import WizardState

MERGE_NOTE = ("A 4-bit base cannot be exported as a merged model (its weights are quantised); export the adapter "
              "as LoRA instead.")
QUANT_INSTALL = "pip install 'adalora-studio[quant]'"


def four_bit_unavailable(cfg: Any, devices: dict[str, Any] | None) -> str | None:
    """Why a 4-bit base cannot be chosen for ``cfg`` here, or None when it can."""
    if cfg.task != "causal-lm":
        return "A 4-bit base is for LLMs: choose the Causal LM task on the first page."
    if cfg.training.device in ("cpu", "mps"):
        return f"A 4-bit base needs a CUDA GPU (Device is {cfg.training.device})."
    if devices is None:
        return "Checking for a CUDA GPU and bitsandbytes…"
    if not devices.get("cuda"):
        return "A 4-bit base needs a CUDA GPU; none was found on this computer."
    if not devices.get("bitsandbytes"):
        return f"A 4-bit base needs bitsandbytes, which is not installed: {QUANT_INSTALL}"
    return None


class MemoryOptions(QGroupBox):
    """Two check boxes bound to the config, and why the 4-bit one is unavailable."""

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__("Memory", parent)
        self.state = state
        self._loading = False
        lay = QVBoxLayout(self)
        self.checkpointing = QCheckBox("Gradient checkpointing (less memory, ~30% slower steps)", self)
        self.checkpointing.setToolTip(tip("training", "gradient_checkpointing"))
        self.four_bit = QCheckBox("4-bit base (bitsandbytes NF4; LLMs on a CUDA GPU)", self)
        self.four_bit.setToolTip(tip("model", "load_in_4bit"))
        self.four_bit_note = QLabel("", self)
        self.four_bit_note.setWordWrap(True)
        self.four_bit_note.setObjectName("fourBitNote")
        for widget in (self.checkpointing, self.four_bit, self.four_bit_note):
            lay.addWidget(widget)
        self.checkpointing.toggled.connect(self._on_checkpointing)
        self.four_bit.toggled.connect(self._on_four_bit)
        state.config_changed.connect(lambda _cfg: self.load())
        state.devices_changed.connect(lambda _d: self.load())
        self.load()

    @property
    def unavailable(self) -> str | None:
        """Why the 4-bit base cannot be chosen now (None when it can)."""
        return four_bit_unavailable(self.state.config, self.state.devices)

    def load(self) -> None:
        """Show the config's values and whether the 4-bit base is available."""
        cfg = self.state.config
        self._loading = True
        self.checkpointing.setChecked(cfg.training.gradient_checkpointing)
        self.four_bit.setChecked(cfg.model.load_in_4bit)
        self._loading = False
        reason = self.unavailable
        self.four_bit.setEnabled(reason is None or cfg.model.load_in_4bit)  # a chosen one can always be undone
        self.four_bit_note.setText(" ".join([reason, MERGE_NOTE] if reason else [MERGE_NOTE]))

    def _on_checkpointing(self, on: bool) -> None:
        if not self._loading:
            self.state.update("training", gradient_checkpointing=bool(on))

    def _on_four_bit(self, on: bool) -> None:
        if not self._loading:
            self.state.update("model", load_in_4bit=bool(on))
