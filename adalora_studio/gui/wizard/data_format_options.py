"""How the data file is read: separator, sheet, row layout, template and text mode, each with what was detected.

A thin view over ``data.delimiter``, ``data.sheet``, ``data.chat_format``, ``data.template`` and
``data.text_mode``: every control writes its config field and shows what ``auto`` found in the preview.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from ...core.config import CHAT_FORMATS, DELIMITERS, TEMPLATES, TEXT_MODES
from .page import tip
from .state import WizardState

DELIMITER_LABELS = {"auto": "auto", ",": "comma ,", ";": "semicolon ;", "\t": "tab", "|": "pipe |"}
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


class DataFormatOptions(QWidget):
    """One row of reading options under the file picker. ``reread`` asks the page for a new preview."""

    reread = Signal()
    """The separator or the sheet changed: the file must be read again."""

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._loading = False
        self._file = ""
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.delimiter = self._combo("delimiter", [DELIMITER_LABELS[d] for d in DELIMITERS])
        self.sheet = self._combo("sheet", [])
        self.layout_combo = self._combo("chat_format", list(CHAT_FORMATS))
        self.template = self._combo("template", list(TEMPLATES))
        self.text_mode = self._combo("text_mode", list(TEXT_MODES))
        self.detected = QLabel("", self)
        self.detected.setObjectName("detectedFormat")
        self.detected.setWordWrap(True)
        self.labels: dict[str, QLabel] = {}
        for name, text, combo in (("delimiter", "Separator:", self.delimiter), ("sheet", "Sheet:", self.sheet),
                                  ("layout", "Rows are:", self.layout_combo), ("template", "Template:", self.template),
                                  ("text_mode", "Text file:", self.text_mode)):
            label = QLabel(text, self)
            self.labels[name] = label
            lay.addWidget(label)
            lay.addWidget(combo)
        lay.addWidget(self.detected, 1)
        self.delimiter.currentIndexChanged.connect(self._on_reading)
        self.sheet.currentIndexChanged.connect(self._on_reading)
        for combo in (self.layout_combo, self.template, self.text_mode):
            combo.currentIndexChanged.connect(self._on_choice)
        self.load(state.config)
        self.show_preview(None)

    def _combo(self, field: str, items: list[str]) -> QComboBox:
        combo = QComboBox(self)
        combo.addItems(items)
        combo.setToolTip(tip("data", field))
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        return combo

    def load(self, cfg: Any) -> None:
        """Show the config's choices."""
        self._loading = True
        d = cfg.data
        self.delimiter.setCurrentIndex(DELIMITERS.index(d.delimiter) if d.delimiter in DELIMITERS else 0)
        self.layout_combo.setCurrentText(d.chat_format)
        self.template.setCurrentText(d.template)
        self.text_mode.setCurrentText(d.text_mode)
        self._loading = False

    def options(self, path: str) -> tuple[str, str]:
        """(delimiter, sheet) as the preview should read ``path`` (a newly chosen file starts at its first sheet)."""
        sheet = self.sheet.currentText() if self.sheet.count() and path == self._file else ""
        return DELIMITERS[max(0, self.delimiter.currentIndex())], sheet

    def _on_reading(self, *_: Any) -> None:
        if self._loading:
            return
        delimiter, sheet = self.options(self._file)
        self.state.update("data", delimiter=delimiter, sheet=sheet)
        self.reread.emit()

    def _on_choice(self, *_: Any) -> None:
        if not self._loading:
            self.state.update("data", chat_format=self.layout_combo.currentText(),
                              template=self.template.currentText(), text_mode=self.text_mode.currentText())

    def show_preview(self, preview: Any) -> None:
        """Show which controls apply to this file and what ``auto`` detected in it."""
        causal = self.state.config.task == "causal-lm"
        fmt = getattr(preview, "format", "")
        csv = fmt in ("csv", "tsv") or preview is None
        for name, visible in (("delimiter", csv), ("sheet", fmt == "xlsx"), ("layout", causal),
                              ("template", causal), ("text_mode", causal and fmt == "txt")):
            self.labels[name].setVisible(visible)
            {"delimiter": self.delimiter, "sheet": self.sheet, "layout": self.layout_combo,
             "template": self.template, "text_mode": self.text_mode}[name].setVisible(visible)
        if preview is None:
            self.detected.setText("")
            return
        self._loading = True
        self._file = preview.file
        sheets = list(getattr(preview, "sheets", ()))
        if [self.sheet.itemText(i) for i in range(self.sheet.count())] != sheets:
            self.sheet.clear()
            self.sheet.addItems(sheets)
        if preview.sheet:
            self.sheet.setCurrentText(preview.sheet)
        self._loading = False
        found = []
        if preview.delimiter:
            found.append(f"separator: {_NAMES.get(preview.delimiter, repr(preview.delimiter))}")
        if preview.sheet:
            found.append(f"sheet: {preview.sheet}")
        if causal:
            found.append(f"rows: {preview.layout or 'no conversation columns found'}")
            found.append("template: the model's chat template if it has one, else plain (see the doctor below)")
        self.detected.setText("Detected " + "; ".join(found) if found else "")
