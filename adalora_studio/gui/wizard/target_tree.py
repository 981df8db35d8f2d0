"""The target-module checklist: a tree of matrix types (tristate) over the matrices of each layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

MODULE_ROLE = Qt.ItemDataRole.UserRole


def compact_targets(info: Any, checked: Sequence[str]) -> tuple[str, ...]:
    """The shortest ``budget.target_modules`` naming exactly ``checked`` (full module paths).

    ``()`` when the checked set is the architecture's default; whole matrix types by name (``query``) when all of
    a type are checked; full paths for the rest. ``core.model.select_targets`` reads all three forms.
    """
    chosen = set(checked)
    if chosen == set(info.default_targets):
        return ()
    out: list[str] = []
    for matrix_type in info.matrix_types:
        modules = [m.module for m in info.matrices if m.matrix_type == matrix_type]
        picked = [m for m in modules if m in chosen]
        if picked and len(picked) == len(modules):
            out.append(matrix_type)
        else:
            out.extend(picked)
    return tuple(out)


class TargetTree(QTreeWidget):
    """Matrix types at the top (tristate), one child per matrix (``L3.value  384→384``)."""

    selection_changed = Signal(tuple)
    """Full module paths now checked, in model order."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["Matrix", "Shape", "Params / rank"])
        self.setColumnWidth(0, 170)
        self.setUniformRowHeights(True)
        self._order: list[str] = []
        self._filling = False
        self.itemChanged.connect(self._on_item_changed)

    def set_matrices(self, info: Any, checked: Sequence[str]) -> None:
        """Rebuild the tree for a ModelInfo, checking the full module paths in ``checked``."""
        self._filling = True
        self.clear()
        self._order = [m.module for m in info.matrices] if info is not None else []
        chosen = set(checked)
        if info is not None:
            for matrix_type in info.matrix_types:
                group = [m for m in info.matrices if m.matrix_type == matrix_type]
                top = QTreeWidgetItem(self, [f"{matrix_type} ({len(group)})", "", ""])
                top.setFlags(top.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsAutoTristate)
                for m in group:
                    child = QTreeWidgetItem(top, [m.name, f"{m.in_features}→{m.out_features}",
                                                  f"{m.in_features + m.out_features + 1:,}"])
                    child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    child.setData(0, MODULE_ROLE, m.module)
                    child.setToolTip(0, m.module)
                    child.setCheckState(0, Qt.CheckState.Checked if m.module in chosen else Qt.CheckState.Unchecked)
        self._filling = False

    def checked_modules(self) -> tuple[str, ...]:
        """Full paths of the checked matrices, in model order."""
        chosen = set()
        for i in range(self.topLevelItemCount()):
            top = self.topLevelItem(i)
            for j in range(top.childCount()):
                child = top.child(j)
                if child.checkState(0) == Qt.CheckState.Checked:
                    chosen.add(child.data(0, MODULE_ROLE))
        return tuple(m for m in self._order if m in chosen)

    def set_checked(self, modules: Sequence[str]) -> None:
        """Check exactly ``modules`` (emits ``selection_changed`` once)."""
        wanted = set(modules)
        self._filling = True
        for i in range(self.topLevelItemCount()):
            top = self.topLevelItem(i)
            for j in range(top.childCount()):
                child = top.child(j)
                child.setCheckState(0, Qt.CheckState.Checked if child.data(0, MODULE_ROLE) in wanted
                                    else Qt.CheckState.Unchecked)
        self._filling = False
        self.selection_changed.emit(self.checked_modules())

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if not self._filling and column == 0:
            self.selection_changed.emit(self.checked_modules())
