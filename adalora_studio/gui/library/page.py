"""The run library page: every run with name, method, task, model, data, budget, final metric, status, duration
and date. Search, sort, tag, rename, delete to the system trash; tick 2-6 runs to compare them.

Rows come from :class:`adalora_studio.core.runs.RunLibrary`, read incrementally (a chunk of folders per timer
tick, so the table fills while the page stays responsive) and cached, so a refresh re-reads only changed runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import RunError, StudioError
from ...core.runs import LibraryEntry, RunLibrary, delete_run, filter_entries, rename_run, set_tags

COLUMNS = ("", "name", "method", "task", "model", "data", "budget", "final metric", "status", "duration", "date",
           "tags / problem")
CHUNK = 100
"""Folders read per timer tick while listing."""
MIN_COMPARE, MAX_COMPARE = 2, 6
Index = QModelIndex | QPersistentModelIndex


def _duration(seconds: float) -> str:
    if seconds <= 0:
        return ""
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _cells(e: LibraryEntry) -> tuple[Any, ...]:
    metric = f"{e.metric_name} {e.metric:.4f}" if e.metric is not None else ""
    return ("", e.name, e.method, e.task, Path(e.model).name if e.model else "", e.data_file, e.budget, metric,
            e.status, _duration(e.duration_s), e.created_text, e.problem or ", ".join(e.tags))


def _sort_value(e: LibraryEntry, column: int) -> Any:
    return {7: e.metric if e.metric is not None else float("-inf"), 9: e.duration_s, 10: e.created}.get(
        column, str(_cells(e)[column]).lower())


class LibraryModel(QAbstractTableModel):
    """Rows of :class:`LibraryEntry` with a tick box in column 0."""

    ticks_changed = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.entries: list[LibraryEntry] = []
        self.ticked: set[Path] = set()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's signature
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        e = self.entries[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _cells(e)[col]
        if role == Qt.ItemDataRole.CheckStateRole and col == 0:
            return Qt.CheckState.Checked if e.path in self.ticked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.UserRole:
            return _sort_value(e, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return e.problem or str(e.path)
        if role == Qt.ItemDataRole.ForegroundRole and e.status in ("broken", "failed"):
            return QColor("#b00020")
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 0 and self.entries[index.row()].status == "finished":
            base |= Qt.ItemFlag.ItemIsUserCheckable
        return base

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != 0:
            return False
        path = self.entries[index.row()].path
        checked = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(value, bool) else value
        (self.ticked.add if checked else self.ticked.discard)(path)
        self.dataChanged.emit(index, index)
        self.ticks_changed.emit()
        return True

    def set_entries(self, entries: list[LibraryEntry]) -> None:
        self.beginResetModel()
        self.entries = entries
        self.ticked &= {e.path for e in entries}
        self.endResetModel()
        self.ticks_changed.emit()


class LibraryPage(QWidget):
    """The run library. Signals carry run folder paths."""

    open_requested = Signal(str)
    compare_requested = Signal(list)
    back_requested = Signal()
    compare_with_lora_requested = Signal(str)
    """A finished AdaLoRA run to compare with its matched LoRA baseline."""

    def __init__(self, root: str | Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = RunLibrary(root)
        self._all: list[LibraryEntry] = []
        self._scan: Iterator[LibraryEntry] | None = None
        self._pending: list[LibraryEntry] = []
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("<b>Run library</b>", self))
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search name, model, data, tags, budget…")
        self.search.setClearButtonEnabled(True)
        self.status_filter = QComboBox(self)
        self.status_filter.addItems(["any status", "finished", "running", "stopped", "failed", "interrupted",
                                     "new", "broken"])
        self.method_filter = QComboBox(self)
        self.method_filter.addItems(["any method", "adalora", "lora"])
        for w in (self.search, self.status_filter, self.method_filter):
            bar.addWidget(w, 2 if w is self.search else 0)
        lay.addLayout(bar)

        self.model = LibraryModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(10, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        lay.addWidget(self.table, 1)

        buttons = QHBoxLayout()
        self.count_label = QLabel("", self)
        buttons.addWidget(self.count_label, 1)
        self.compare_button = QPushButton("Compare ticked", self)
        self.open_button = QPushButton("Open", self)
        self.lora_button = QPushButton("Compare with LoRA…", self)
        self.lora_button.setToolTip("Train plain LoRA matched to this AdaLoRA run's final parameter count")
        self.rename_button = QPushButton("Rename…", self)
        self.tags_button = QPushButton("Tags…", self)
        self.delete_button = QPushButton("Move to trash…", self)
        self.refresh_button = QPushButton("Refresh", self)
        self.back_button = QPushButton("Back", self)
        for b in (self.compare_button, self.open_button, self.lora_button, self.rename_button, self.tags_button,
                  self.delete_button, self.refresh_button, self.back_button):
            buttons.addWidget(b)
        lay.addLayout(buttons)

        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._read_chunk)
        self.search.textChanged.connect(lambda _t: self._apply_filter())
        self.status_filter.currentIndexChanged.connect(lambda _i: self._apply_filter())
        self.method_filter.currentIndexChanged.connect(lambda _i: self._apply_filter())
        self.model.ticks_changed.connect(self._update_buttons)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        self.table.doubleClicked.connect(lambda _i: self._open_selected())
        self.compare_button.clicked.connect(self._compare)
        self.open_button.clicked.connect(self._open_selected)
        self.lora_button.clicked.connect(self._compare_with_lora)
        self.rename_button.clicked.connect(self._rename_dialog)
        self.tags_button.clicked.connect(self._tags_dialog)
        self.delete_button.clicked.connect(self._delete_dialog)
        self.refresh_button.clicked.connect(self.refresh)
        self.back_button.clicked.connect(self.back_requested.emit)
        self._update_buttons()

    # ------------------------------------------------------------------ listing
    def refresh(self) -> None:
        """Re-read the runs folder incrementally (only changed folders are read again)."""
        self._scan = self.library.scan()
        self._pending = []
        self._timer.start()

    def refresh_now(self) -> None:
        """Read everything at once (tests, scripts)."""
        self._timer.stop()
        self._all = self.library.entries()
        self._scan = None
        self._apply_filter()

    def _read_chunk(self) -> None:
        if self._scan is None:  # a refresh_now() finished the listing meanwhile
            self._timer.stop()
            return
        for _ in range(CHUNK):
            entry = next(self._scan, None)
            if entry is None:
                self._timer.stop()
                self._scan = None
                self._all = self._pending
                self._apply_filter()
                return
            self._pending.append(entry)
        self.count_label.setText(f"Reading runs… {len(self._pending)}")

    def _apply_filter(self) -> None:
        status = self.status_filter.currentText()
        method = self.method_filter.currentText()
        shown = filter_entries(self._all, self.search.text(), "" if status.startswith("any") else status,
                               "" if method.startswith("any") else method)
        self.model.set_entries(shown)
        broken = sum(e.status == "broken" for e in self._all)
        self.count_label.setText(f"{len(shown)} of {len(self._all)} runs" + (f"; {broken} broken (hover for why)"
                                                                             if broken else ""))

    # ------------------------------------------------------------------ actions
    def selected_entries(self) -> list[LibraryEntry]:
        """The selected rows' entries."""
        rows = {self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()}
        return [self.model.entries[r] for r in sorted(rows)]

    def ticked_paths(self) -> list[str]:
        """Ticked run folders, in table order."""
        return [str(e.path) for e in self.model.entries if e.path in self.model.ticked]

    def _update_buttons(self) -> None:
        n = len(self.model.ticked)
        self.compare_button.setEnabled(MIN_COMPARE <= n <= MAX_COMPARE)
        self.compare_button.setText(f"Compare ticked ({n})" if n else "Compare ticked")
        has = bool(self.table.selectionModel().selectedRows())
        for b in (self.open_button, self.rename_button, self.tags_button, self.delete_button):
            b.setEnabled(has)
        chosen = self.selected_entries() if has else []
        self.lora_button.setEnabled(bool(chosen) and chosen[0].status == "finished" and chosen[0].method == "adalora")

    def _compare(self) -> None:
        self.compare_requested.emit(self.ticked_paths())

    def _compare_with_lora(self) -> None:
        chosen = self.selected_entries()
        if chosen:
            self.compare_with_lora_requested.emit(str(chosen[0].path))

    def _open_selected(self) -> None:
        chosen = self.selected_entries()
        if chosen and chosen[0].status != "broken":
            self.open_requested.emit(str(chosen[0].path))

    def _rename_dialog(self) -> None:
        chosen = self.selected_entries()
        if chosen:
            name, ok = QInputDialog.getText(self, "Rename run", "Name:", text=chosen[0].name)
            if ok:
                self.rename(chosen[0].path, name)

    def _tags_dialog(self) -> None:
        chosen = self.selected_entries()
        if chosen:
            text, ok = QInputDialog.getText(self, "Tags", "Tags (comma-separated):", text=", ".join(chosen[0].tags))
            if ok:
                self.tag(chosen[0].path, [t for t in text.split(",")])

    def _delete_dialog(self) -> None:
        chosen = self.selected_entries()
        if chosen and QMessageBox.question(
                self, "Move to trash", f"Move {len(chosen)} run folder(s) to the system trash?") == \
                QMessageBox.StandardButton.Yes:
            self.delete([e.path for e in chosen])

    def rename(self, path: Path, name: str) -> None:
        """Rename a run (display name) and refresh."""
        self._guard(lambda: rename_run(path, name))

    def tag(self, path: Path, tags: list[str]) -> None:
        """Set a run's tags and refresh."""
        self._guard(lambda: set_tags(path, tags))

    def delete(self, paths: list[Path], trash: Any = None) -> None:
        """Move run folders to the system trash (Qt's, unless ``trash`` is given) and refresh."""
        def qt_trash(path: Path) -> None:
            from PySide6.QtCore import QFile

            if not QFile.moveToTrash(str(path)):
                raise RunError(f"the system trash refused {path}")

        self._guard(lambda: [delete_run(p, trash or qt_trash) for p in paths])

    def _guard(self, action: Any) -> None:
        try:
            action()
        except (StudioError, OSError) as exc:
            QMessageBox.warning(self, "Run library", str(exc))
        self.refresh_now()
