"""Wizard page 4: optimisation, evaluation, checkpoints, hardware (precision, processes, memory options) and where
the run is written."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ...core import paths
from ...core.config import DEVICES, PRECISIONS, SCHEDULERS, advise_config, validate_config
from ..labels import for_gui
from . import jobs
from .memory_options import MemoryOptions
from .page import InlineMessage, WizardPage, tip
from .processes_row import ProcessesSpin
from .recent_button import RecentButton
from .state import WizardState

LEARNING_RATE_INPUT_RANGE = (1e-12, 1e6)
"""What the learning-rate box accepts: far wider than what works, so a typed 5 stays 5 and the page says why it
is wrong (``core.config`` checks and advice) instead of the box clamping it silently to its maximum."""


class _SciSpin(QDoubleSpinBox):
    """A spin box that shows and parses learning rates like 5e-4."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt API)
        return f"{value:.2g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt API)
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> Any:
        from PySide6.QtGui import QValidator

        try:
            float(text)
            return QValidator.State.Acceptable, text, pos
        except ValueError:
            return QValidator.State.Intermediate, text, pos


class TrainingPage(WizardPage):
    """Every TrainingConfig field plus the run name and output folder."""

    title = "Training"
    subtitle = "The defaults suit the bundled demo: a few minutes on a laptop CPU."

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self._loading = False
        row = QHBoxLayout(self.body)
        row.addWidget(self._build_optimisation(), 1)
        right = QWidget(self.body)
        f2 = QFormLayout(right)
        f2.setContentsMargins(0, 0, 0, 0)
        f2.addRow(self._build_evaluation(right))
        f2.addRow(self._build_hardware(right))
        f2.addRow(self._build_output(right))
        row.addWidget(right, 1)

        for w in (self.epochs, self.max_steps, self.batch, self.accum, self.lr, self.warmup, self.weight_decay,
                  self.grad_norm, self.seed, self.eval_every, self.ckpt_every, self.keep, self.log_every):
            w.valueChanged.connect(self._on_edit)
        for c in (self.scheduler, self.device, self.precision):
            c.currentIndexChanged.connect(self._on_edit)
        self.name.textEdited.connect(self._on_edit)
        self.output.textEdited.connect(self._on_edit)
        self.output_button.clicked.connect(self._choose_output)
        state.config_changed.connect(self._on_config_changed)
        state.devices_changed.connect(self._on_devices)
        self._load(state.config)
        self._probed = False

    # ------------------------------------------------------------------ builders
    def _build_optimisation(self) -> QGroupBox:
        opt = QGroupBox("Optimisation", self.body)
        f1 = QFormLayout(opt)
        self.epochs = self._dspin(0.01, 1000, 2, "epochs")
        self.max_steps = self._spin(0, 10_000_000, "max_steps")
        self.batch = self._spin(1, 4096, "batch_size")
        self.accum = self._spin(1, 1024, "grad_accum")
        self.lr = _SciSpin(self)
        self.lr.setRange(*LEARNING_RATE_INPUT_RANGE)
        self.lr.setDecimals(8)
        self.lr.setSingleStep(1e-4)
        self.lr.setToolTip(tip("training", "learning_rate"))
        self.scheduler = self._combo(SCHEDULERS, "scheduler")
        self.warmup = self._dspin(0.0, 0.99, 2, "warmup_ratio")
        self.weight_decay = self._dspin(0.0, 10.0, 3, "weight_decay")
        self.grad_norm = self._dspin(0.0, 1000.0, 2, "max_grad_norm")
        self.seed = self._spin(0, 2**31 - 1, "seed")
        for label, w in (("Epochs:", self.epochs), ("Max steps (0: from epochs):", self.max_steps),
                         ("Batch size:", self.batch), ("Gradient accumulation:", self.accum),
                         ("Learning rate:", self.lr), ("Scheduler:", self.scheduler), ("Warm-up ratio:", self.warmup),
                         ("Weight decay:", self.weight_decay), ("Max grad norm:", self.grad_norm),
                         ("Seed:", self.seed)):
            f1.addRow(label, w)
        self.checks = InlineMessage(opt)
        """Out-of-range values (errors) and implausible ones (warnings), with the reason; nothing is clamped."""
        self.checks.setObjectName("trainingChecks")
        f1.addRow(self.checks)
        return opt

    def _build_evaluation(self, parent: QWidget) -> QGroupBox:
        ev = QGroupBox("Evaluation and checkpoints", parent)
        f3 = QFormLayout(ev)
        self.eval_every = self._spin(0, 10_000_000, "eval_every")
        self.eval_every.setSpecialValueText("every epoch")
        self.ckpt_every = self._spin(0, 10_000_000, "checkpoint_every")
        self.ckpt_every.setSpecialValueText("every epoch")
        self.keep = self._spin(1, 1000, "keep_checkpoints")
        self.log_every = self._spin(1, 100000, "log_every")
        for label, w in (("Evaluate every (steps):", self.eval_every), ("Checkpoint every (steps):", self.ckpt_every),
                         ("Keep checkpoints:", self.keep), ("Log every (steps):", self.log_every)):
            f3.addRow(label, w)
        return ev

    def _build_hardware(self, parent: QWidget) -> QGroupBox:
        """Device, precision, processes, what the probe found, and the memory options."""
        hw = QGroupBox("Hardware", parent)
        f4 = QFormLayout(hw)
        self.device = self._combo(DEVICES, "device")
        self.precision = self._combo(PRECISIONS, "precision")
        self.device_note = QLabel("Checking which devices are available…", hw)
        self.device_note.setWordWrap(True)
        f4.addRow("Device:", self.device)
        f4.addRow("Precision:", self.precision)
        self.processes = ProcessesSpin(self.state, hw)
        f4.addRow("Processes / GPUs:", self.processes)
        f4.addRow("", self.device_note)
        self.memory = MemoryOptions(self.state, hw)
        f4.addRow(self.memory)
        return hw

    def _build_output(self, parent: QWidget) -> QGroupBox:
        out = QGroupBox("Output", parent)
        f5 = QFormLayout(out)
        self.name = QLineEdit(out)
        self.name.setToolTip(tip("", "name"))
        folder_row = QHBoxLayout()
        self.output = QLineEdit(out)
        self.output.setPlaceholderText(str(paths.runs_dir()))
        self.output.setToolTip(tip("", "output_dir"))
        self.output_button = QPushButton("Choose…", out)
        self.recent_button = RecentButton(out, tooltip="Runs folders used before")
        self.recent_menu = self.recent_button.recent_menu
        folder_row.addWidget(self.output, 1)
        folder_row.addWidget(self.output_button)
        folder_row.addWidget(self.recent_button)
        f5.addRow("Run name:", self.name)
        f5.addRow("Runs folder:", folder_row)
        self.error = InlineMessage(out)
        f5.addRow(self.error)
        return out

    # ------------------------------------------------------------------ helpers
    def _spin(self, lo: int, hi: int, name: str) -> QSpinBox:
        spin = QSpinBox(self)
        spin.setRange(lo, hi)
        spin.setToolTip(tip("training", name))
        return spin

    def _dspin(self, lo: float, hi: float, decimals: int, name: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(self)
        spin.setRange(lo, hi)
        spin.setDecimals(decimals)
        spin.setSingleStep(10 ** -min(decimals, 2) if hi <= 1 else 1)
        spin.setToolTip(tip("training", name))
        return spin

    def _combo(self, items: tuple[str, ...], name: str) -> QComboBox:
        combo = QComboBox(self)
        combo.addItems(items)
        combo.setToolTip(tip("training", name))
        return combo

    # ------------------------------------------------------------------ config <-> widgets
    def _load(self, cfg: Any) -> None:
        self._loading = True
        t = cfg.training
        self.epochs.setValue(t.epochs)
        self.max_steps.setValue(t.max_steps)
        self.batch.setValue(t.batch_size)
        self.accum.setValue(t.grad_accum)
        self.lr.setValue(t.learning_rate)
        self.scheduler.setCurrentText(t.scheduler)
        self.warmup.setValue(t.warmup_ratio)
        self.weight_decay.setValue(t.weight_decay)
        self.grad_norm.setValue(t.max_grad_norm)
        self.seed.setValue(t.seed)
        self.eval_every.setValue(t.eval_every)
        self.ckpt_every.setValue(t.checkpoint_every)
        self.keep.setValue(t.keep_checkpoints)
        self.log_every.setValue(t.log_every)
        self.device.setCurrentText(t.device)
        self.precision.setCurrentText(t.precision)
        if self.name.text() != cfg.name:
            self.name.setText(cfg.name)
        if self.output.text() != cfg.output_dir:
            self.output.setText(cfg.output_dir)
        self._loading = False
        self._show_checks()

    def _on_config_changed(self, cfg: Any) -> None:
        if not self._loading:
            self._load(cfg)

    def _on_edit(self, *_: Any) -> None:
        if self._loading:
            return
        self._loading = True
        self.state.update("training", epochs=round(self.epochs.value(), 4), max_steps=self.max_steps.value(),
                          batch_size=self.batch.value(), grad_accum=self.accum.value(),
                          learning_rate=float(f"{self.lr.value():.3g}"), scheduler=self.scheduler.currentText(),
                          warmup_ratio=round(self.warmup.value(), 4), weight_decay=round(self.weight_decay.value(), 6),
                          max_grad_norm=round(self.grad_norm.value(), 4), seed=self.seed.value(),
                          eval_every=self.eval_every.value(), checkpoint_every=self.ckpt_every.value(),
                          keep_checkpoints=self.keep.value(), log_every=self.log_every.value(),
                          device=self.device.currentText(), precision=self.precision.currentText())
        self.state.update("", name=self.name.text(), output_dir=self.output.text().strip())
        self._loading = False
        self._show_devices()
        self._show_checks()
        self.complete_changed.emit()

    def _field_problems(self) -> list[str]:
        return [for_gui(str(e)) for e in validate_config(self.state.config) if e.field.startswith("training.")]

    def _show_checks(self) -> None:
        errors = self._field_problems()
        advice = [for_gui(str(a)) for a in advise_config(self.state.config) if a.field.startswith("training.")]
        self.checks.show_message("\n".join(errors or advice) or None, "error" if errors else "warning")

    def set_recent(self, folders: list[str]) -> None:
        """Offer recently used runs folders in the "Recent" menu."""
        self.recent_button.set_items(folders, lambda f: (self.output.setText(f), self._on_edit()))

    def _choose_output(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for run folders",
                                                  self.output.text() or str(paths.runs_dir()))
        if folder:
            self.output.setText(folder)
            self._on_edit()

    # ------------------------------------------------------------------ devices (probed on the worker)
    def entered(self) -> None:
        if not self._probed:
            self._probed = True
            self.state.submit("devices", jobs.probe_devices, (), self.state.set_devices,
                              lambda message, _d: self.device_note.setText(f"Could not check devices: {message}"))

    def _on_devices(self, devices: dict[str, Any]) -> None:
        self._show_devices()

    def _show_devices(self) -> None:
        d = self.state.devices
        if d is None:
            return
        found = ", ".join(x for x in ("CUDA " + d["cuda_name"] if d["cuda"] else "", "MPS" if d["mps"] else "") if x)
        text = (f"Found: {found or 'no GPU'}. auto → <b>{d['auto_device']}</b>, "
                f"precision auto → <b>{d['auto_precision']}</b>")
        if d["auto_device"] == "cpu":
            text += f" ({d['threads']} CPU threads)."
        chosen = self.device.currentText()
        problem = None
        if chosen == "cuda" and not d["cuda"]:
            problem = "CUDA was chosen but no CUDA GPU is available; choose auto or cpu."
        elif chosen == "mps" and not d["mps"]:
            problem = "MPS was chosen but Apple's GPU backend is not available; choose auto or cpu."
        self.device_note.setText(text)
        self.error.show_message(problem)
        self._device_problem = problem

    def problem(self) -> str | None:
        if not self.name.text().strip():
            return "Give the run a name."
        if self.max_steps.value() == 0 and self.epochs.value() <= 0:
            return "Epochs must be positive when max steps is 0."
        problems = self._field_problems()
        if problems:
            return problems[0]
        four_bit = self.memory.unavailable if self.state.config.model.load_in_4bit else None
        if four_bit and self.state.devices is not None:
            return f"{four_bit} Or switch the 4-bit base off."
        return getattr(self, "_device_problem", None)
