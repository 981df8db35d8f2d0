"""The classification playground's predictions as a table model: one row per input line, column 0 the text, then
one column per run (A, and B when a second run is compared), each cell a :class:`PredictionCell`.

Roles of a run cell (column >= 1), for the delegate and for tests:

- :data:`CELL_ROLE`: the :class:`PredictionCell`;
- :data:`HEAD_ROLE`: its head line, ``"A · name: label (97.0%)"``;
- :data:`RANKED_ROLE`: ``[(label, probability), ...]``, highest first, every class;
- ``Qt.ToolTipRole``: every class with its probability, and the truncation note.

Column 0 gives the input text (``DisplayRole`` shortened for painting, ``ToolTipRole`` in full)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

CELL_ROLE = int(Qt.ItemDataRole.UserRole) + 1
HEAD_ROLE = int(Qt.ItemDataRole.UserRole) + 2
RANKED_ROLE = int(Qt.ItemDataRole.UserRole) + 3
DISPLAY_CHARS = 1000
"""Characters of an input text handed to the painter (the cell elides far sooner; the tooltip has it all)."""

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class PredictionCell:
    """One run's prediction of one input line."""

    name: str
    label: str
    probability: float
    ranked: tuple[tuple[str, float], ...]
    note: str = ""

    @property
    def head(self) -> str:
        """``"name: label (probability)"``."""
        return f"{self.name}: {self.label} ({self.probability:.1%})"

    def tooltip(self) -> str:
        lines = [self.head, *(f"{label}: {p:.1%}" for label, p in self.ranked)]
        if self.note:
            lines.append(f"⚠ {self.note}")
        return "\n".join(lines)


def make_cell(name: str, prediction: dict[str, Any]) -> PredictionCell:
    """A cell from one ``predict_job`` dict (text, label, probabilities {label: p}, optional note)."""
    probabilities = {str(k): float(v) for k, v in prediction["probabilities"].items()}
    label = str(prediction["label"])
    ranked = tuple(sorted(probabilities.items(), key=lambda kv: -kv[1]))
    return PredictionCell(name, label, probabilities.get(label, 0.0), ranked, str(prediction.get("note") or ""))


class PredictionsModel(QAbstractTableModel):
    """Read-only predictions of the pasted lines by one or two runs."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._names: list[str] = []
        self._texts: list[str] = []
        self._cells: list[list[PredictionCell]] = []  # [row][run]

    def set_predictions(self, columns: list[tuple[str, list[dict[str, Any]]]]) -> None:
        """Replace the contents: ``columns`` is ``[(run name, predictions in line order), ...]``."""
        lengths = {name: len(preds) for name, preds in columns}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"every run must predict the same lines; got {lengths}")
        n = len(columns[0][1]) if columns else 0
        cells = [[make_cell(name, preds[i]) for name, preds in columns] for i in range(n)]
        self.beginResetModel()
        self._names = [name for name, _ in columns]
        self._texts = [str(columns[0][1][i]["text"]) for i in range(n)]
        self._cells = cells
        self.endResetModel()

    def run_names(self) -> list[str]:
        return list(self._names)

    def as_tsv(self, rows: list[int] | None = None) -> str:
        """``rows`` (all when None) as tab-separated text for a spreadsheet: a header, then per line its text and,
        per run, the predicted label, its probability and the truncation note (tabs and newlines in a text become
        spaces)."""
        header = ["text"] + [f"{name}: {field}" for name in self._names for field in ("label", "probability", "note")]
        lines = ["\t".join(header)]
        for r in range(len(self._texts)) if rows is None else sorted(set(rows)):
            fields = [self._texts[r]]
            for cell in self._cells[r]:
                fields += [cell.label, f"{cell.probability:.4f}", cell.note]
            lines.append("\t".join(" ".join(f.split()) for f in fields))
        return "\n".join(lines) + "\n"

    def max_classes(self) -> int:
        """The most classes any cell has (0 when empty)."""
        return max((len(c.ranked) for row in self._cells for c in row), default=0)

    def has_notes(self) -> bool:
        """Whether any prediction carries a truncation note."""
        return any(c.note for row in self._cells for c in row)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's signature
        return 0 if parent.isValid() else len(self._texts)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's signature
        return 0 if parent.isValid() else 1 + len(self._names)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if col == 0:
            text = self._texts[row]
            if role == Qt.ItemDataRole.DisplayRole:
                return text if len(text) <= DISPLAY_CHARS else text[: DISPLAY_CHARS - 1] + "…"
            if role == Qt.ItemDataRole.ToolTipRole:
                return text
            return None
        cell = self._cells[row][col - 1]
        if role == CELL_ROLE:
            return cell
        if role == HEAD_ROLE:
            return cell.head
        if role == RANKED_ROLE:
            return list(cell.ranked)
        if role == Qt.ItemDataRole.ToolTipRole:
            return cell.tooltip()
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return cell.head
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt's signature
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        return "Text" if section == 0 else self._names[section - 1]
