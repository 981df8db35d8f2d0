"""The playground's validation-row table: filled in chunks across event-loop turns, a newer fill replaces an older."""

from __future__ import annotations

from typing import Any

from adalora_studio.gui.playground.classify_view import FILL_CHUNK, ClassifyView


def _rows(n: int, two: bool = False) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        row: dict[str, Any] = {"text": f"row {i}", "true": "a" if i % 2 else "b", "predicted": "a",
                               "confidence": i / (n + 1)}
        if two:
            row.update({"other_predicted": "b", "other_confidence": 0.5})
        out.append(row)
    return out


def test_a_long_table_is_filled_in_chunks_and_completely(qtbot) -> None:  # noqa: ANN001
    view = ClassifyView()
    qtbot.addWidget(view)
    shown: list[int] = []
    view.rows_shown.connect(lambda: shown.append(view.table.rowCount()))
    rows = _rows(2 * FILL_CHUNK + 7, two=True)
    view.show_rows(rows, "run B")
    table = view.table
    assert table.rowCount() == len(rows) and table.columnCount() == 6
    assert table.item(FILL_CHUNK - 1, 0).text() == f"row {FILL_CHUNK - 1}"
    assert table.item(FILL_CHUNK, 0) is None and not shown  # the rest waits for the next event-loop turns
    with qtbot.waitSignal(view.rows_shown, timeout=5_000):
        pass
    assert shown == [len(rows)]
    red = "#c0392b"
    for r, row in enumerate(rows):
        texts = [table.item(r, c).text() for c in range(6)]
        assert texts == [row["text"], row["true"], "a", f"{row['confidence']:.1%}", "b", "50.0%"]
        assert (table.item(r, 2).foreground().color().name() == red) == (row["true"] != "a")
        assert (table.item(r, 4).foreground().color().name() == red) == (row["true"] != "b")
        assert table.item(r, 0).toolTip() == row["text"]
    assert table.item(1, 2).foreground().style().name == "NoBrush"  # a right prediction keeps the default colour
    assert table.horizontalHeaderItem(4).text() == "run B: predicted"


def test_a_short_table_is_filled_at_once_and_a_new_fill_drops_the_old(qtbot) -> None:  # noqa: ANN001
    view = ClassifyView()
    qtbot.addWidget(view)
    shown: list[int] = []
    view.rows_shown.connect(lambda: shown.append(view.table.rowCount()))
    view.show_rows(_rows(3 * FILL_CHUNK, two=True))  # still filling when the next result comes
    view.show_rows(_rows(4))
    assert shown == [4] and view.table.columnCount() == 4  # short: filled in the call
    assert [view.table.item(r, 0).text() for r in range(4)] == [f"row {r}" for r in range(4)]
    qtbot.wait(50)  # the dropped fill's queued chunk runs and does nothing
    assert shown == [4] and view.table.rowCount() == 4
