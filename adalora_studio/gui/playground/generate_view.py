"""Causal-LM playground: a prompt, decoding controls, and two panes that stream side by side (base or a second
run on the left, the tuned run on the right), with a Stop button."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)


class GenerateView(QWidget):
    """Emits ``generate_requested`` with the prompt; the page streams text into :attr:`left` and :attr:`right`."""

    generate_requested = Signal(str)
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText("Enter a prompt, e.g. an instruction like those the run trained on.")
        self.prompt.setMaximumHeight(100)
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(1, 2048)
        self.max_tokens.setValue(64)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.05, 2.0)
        self.temperature.setSingleStep(0.05)
        self.temperature.setValue(0.7)
        self.top_p = QDoubleSpinBox()
        self.top_p.setRange(0.05, 1.0)
        self.top_p.setSingleStep(0.05)
        self.top_p.setValue(0.9)
        self.greedy = QCheckBox("Greedy")
        self.greedy.setToolTip("Always pick the most likely token (temperature and top-p are not used)")
        self.greedy.setChecked(True)
        self.greedy.toggled.connect(lambda on: (self.temperature.setEnabled(not on), self.top_p.setEnabled(not on)))
        self.temperature.setEnabled(False)
        self.top_p.setEnabled(False)
        self.generate_button = QPushButton("Generate")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        controls = QHBoxLayout()
        for label, widget in (("Max new tokens", self.max_tokens), ("Temperature", self.temperature),
                              ("Top-p", self.top_p)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addWidget(self.greedy)
        controls.addStretch(1)
        controls.addWidget(self.generate_button)
        controls.addWidget(self.stop_button)
        self.left_box, self.left = _pane("Base model")
        self.right_box, self.right = _pane("Tuned")
        panes = QHBoxLayout()
        panes.addWidget(self.left_box, 1)
        panes.addWidget(self.right_box, 1)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #a15c00;")
        layout = QVBoxLayout(self)
        layout.addWidget(self.prompt)
        layout.addLayout(controls)
        layout.addWidget(self.note)
        layout.addLayout(panes, 1)
        self.generate_button.clicked.connect(self._on_generate)
        self.stop_button.clicked.connect(self.stop_requested)

    def settings(self) -> object:
        from ...core.inference import GenerationSettings

        return GenerationSettings(max_new_tokens=self.max_tokens.value(), temperature=self.temperature.value(),
                                  top_p=self.top_p.value(), greedy=self.greedy.isChecked())

    def _on_generate(self) -> None:
        text = self.prompt.toPlainText().strip()
        if text:
            self.generate_requested.emit(text)

    def set_running(self, running: bool) -> None:
        self.generate_button.setEnabled(not running)
        self.stop_button.setEnabled(running)


def _pane(title: str) -> tuple[QGroupBox, QPlainTextEdit]:
    box = QGroupBox(title)
    text = QPlainTextEdit()
    text.setReadOnly(True)
    layout = QVBoxLayout(box)
    layout.addWidget(text)
    return box, text
