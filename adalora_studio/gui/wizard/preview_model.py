"""A read-only table model over a ``core.data.DataPreview``: the view shows the preview rows without copying them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

MAX_CELL_CHARS = 300

Index = QModelIndex | QPersistentModelIndex


class PreviewTableModel(QAbstractTableModel):
    """Rows are the preview's row dicts, columns its column names; mapped columns are shown in bold headers."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._columns: list[str] = []
        self._rows: Sequence[dict[str, Any]] = ()
        self._roles: dict[str, str] = {}

    def set_preview(self, preview: Any) -> None:
        """Show a DataPreview (or None to clear)."""
        self.beginResetModel()
        self._columns = list(preview.columns) if preview is not None else []
        self._rows = preview.rows if preview is not None else ()
        self.endResetModel()

    def set_roles(self, roles: dict[str, str]) -> None:
        """Mark columns with their role in the mapping, e.g. ``{"text": "text", "label": "label"}``."""
        self._roles = dict(roles)
        if self._columns:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self._columns) - 1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt API)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt API)
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self._rows[index.row()].get(self._columns[index.column()])
        if role == Qt.ItemDataRole.DisplayRole:
            text = "" if value is None else str(value)
            return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS] + "…"
        if role == Qt.ItemDataRole.ToolTipRole:
            return None if value is None else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, (int, float)):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Vertical:
            return section + 1 if role == Qt.ItemDataRole.DisplayRole else None
        if not 0 <= section < len(self._columns):
            return None
        name = self._columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{name}  [{self._roles[name]}]" if name in self._roles else name
        if role == Qt.ItemDataRole.FontRole and name in self._roles:
            font = QFont()
            font.setBold(True)
            return font
        return None
