"""The base of every wizard page, and small widgets the pages share."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from ...core.config import field_help
from .state import WizardState


def tip(section: str, name: str) -> str:
    """Tooltip text for a config field, from the help text the CLI shows too."""
    try:
        return field_help(section, name)
    except KeyError:
        return ""


def human_count(n: int | float) -> str:
    """22_713_216 -> '22.7M', 1536 -> '1.5k'."""
    n = float(n)
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return f"{int(n)}"


class InlineMessage(QLabel):
    """A wrapped message shown right next to the control it concerns; hidden while empty."""

    STYLES = {
        "error": "color: palette(text); background: rgba(220, 50, 47, 0.14); border-left: 3px solid #dc322f;",
        "warning": "color: palette(text); background: rgba(181, 137, 0, 0.14); border-left: 3px solid #b58900;",
        "info": "color: palette(text); background: rgba(38, 139, 210, 0.10); border-left: 3px solid #268bd2;",
    }

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_message(self, text: str | None, level: str = "error") -> None:
        """Show ``text`` styled for ``level`` (error, warning, info); ``None``/empty hides the label."""
        if not text:
            self.clear()
            self.hide()
            return
        self.setStyleSheet(f"QLabel {{ {self.STYLES[level]} padding: 4px 6px; }}")
        self.setText(text)
        self.show()


class WizardPage(QWidget):
    """One step of the wizard, bound to the shared :class:`WizardState`.

    A page reports why Next must stay disabled through :meth:`problem` (``None`` when the page is complete) and
    emits ``complete_changed`` whenever that may have changed.
    """

    title = ""
    subtitle = ""
    complete_changed = Signal()

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.body = QWidget(scroll)
        self.body.setObjectName("wizardPageBody")
        scroll.setWidget(self.body)
        outer.addWidget(scroll)

    def problem(self) -> str | None:
        """Why Next is blocked (shown under the page), or None when the page is complete."""
        return None

    def entered(self) -> None:
        """Called each time the page becomes the current one (refresh from the state here)."""
