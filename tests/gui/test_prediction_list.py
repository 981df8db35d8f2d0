"""The classification playground's per-line results: a model/view list whose delegate paints each run's cell (head,
top classes as bars, "+N more", the truncation note), with fixed row heights and no widget per line."""

from __future__ import annotations

import random
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QProgressBar, QWidget

from adalora_studio.gui.playground.classify_view import ClassifyView
from adalora_studio.gui.playground.prediction_delegate import TOP_K, PredictionDelegate, row_height, wrapped_lines
from adalora_studio.gui.playground.predictions_model import CELL_ROLE, HEAD_ROLE, RANKED_ROLE
from adalora_studio.gui.theme import dark_palette
from tests.png_dir import png_dir

LABELS = ["billing", "shipping", "account", "technical", "feedback"]
TEXTS = ["my card was charged twice", "the parcel never arrived and tracking has not moved for a week",
         "the app crashes when I log in"]


def _preds(texts: list[str], seed: int, labels: list[str] = LABELS, note_every: int = 0) -> list[dict[str, Any]]:
    """predict_job-shaped dicts with seeded probabilities (the label is the most probable class)."""
    rng = random.Random(seed)
    out = []
    for i, text in enumerate(texts):
        w = [rng.random() ** 3 for _ in labels]
        probs = {label: x / sum(w) for label, x in zip(labels, w, strict=True)}
        note = "the text was cut to its first 128 tokens (of 212)" if note_every and i % note_every == 0 else ""
        out.append({"text": text, "label": max(probs, key=probs.__getitem__), "probabilities": probs,
                    "note": note})
    return out


def _view(qtbot, palette: QPalette | None = None) -> ClassifyView:  # noqa: ANN001
    view = ClassifyView()
    qtbot.addWidget(view)
    if palette is not None:
        view.setPalette(palette)
    view.resize(1100, 760)
    view.show()
    qtbot.waitExposed(view)
    return view


class _CountingDelegate(PredictionDelegate):
    """The real delegate, recording which rows it painted."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.rows: set[int] = set()

    def paint(self, painter, option, index) -> None:  # noqa: ANN001
        self.rows.add(index.row())
        super().paint(painter, option, index)


def test_300_predictions_fill_the_model_without_a_widget_per_line(qtbot) -> None:  # noqa: ANN001
    view = _view(qtbot)
    view.show_predictions([("A · run-a", _preds(TEXTS, 1))])
    children_for_3 = len(view.findChildren(QWidget))
    texts = [f"I was charged twice for order {i}" for i in range(300)]
    counting = _CountingDelegate(view.results)
    view.results.setItemDelegate(counting)
    view.show_predictions([("A · run-a", _preds(texts, 2)), ("B · run-b", _preds(texts, 3, note_every=7))])
    model = view.predictions
    assert view.prediction_count() == 300 and model.rowCount() == 300 and model.columnCount() == 3
    assert model.index(299, 0).data() == texts[299] and model.index(299, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert not view.findChildren(QProgressBar) and not view.results.findChildren(QLabel)
    assert len(view.findChildren(QWidget)) == children_for_3  # nothing added per line
    view.grab()  # paint once
    assert counting.rows and max(counting.rows) < 20  # only the rows on screen were painted
    heights = {view.results.rowHeight(r) for r in range(300)}
    assert heights == {row_height(view.results.font(), 5, False, True)}  # one fixed height: 5 bars and a note


def test_cells_give_head_ranked_classes_tooltip_and_note(qtbot) -> None:  # noqa: ANN001
    view = _view(qtbot)
    a, b = _preds(TEXTS, 4), _preds(TEXTS, 5, note_every=2)
    view.show_predictions([("A · run-a", a), ("B · run-b", b)])
    model = view.predictions
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(3)] == ["Text", "A · run-a", "B · run-b"]
    for r, (pa, pb) in enumerate(zip(a, b, strict=True)):
        for c, p in ((1, pa), (2, pb)):
            index = model.index(r, c)
            name = "A · run-a" if c == 1 else "B · run-b"
            assert index.data(HEAD_ROLE) == f"{name}: {p['label']} ({p['probabilities'][p['label']]:.1%})"
            ranked = index.data(RANKED_ROLE)
            assert [label for label, _ in ranked] == sorted(p["probabilities"], key=lambda k: -p["probabilities"][k])
            tip = index.data(Qt.ItemDataRole.ToolTipRole)
            assert all(f"{label}: {q:.1%}" in tip for label, q in p["probabilities"].items())
            assert ("⚠ the text was cut" in tip) == bool(p["note"])
            assert index.data(CELL_ROLE).note == p["note"]
    assert model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole) == TEXTS[0]


def test_many_classes_show_the_top_k_and_the_rest_in_the_tooltip(qtbot) -> None:  # noqa: ANN001
    labels = [f"class-{i}" for i in range(12)]
    view = _view(qtbot)
    view.show_predictions([("A · run-a", _preds(TEXTS, 6, labels))])
    font = view.results.font()
    assert view.results.rowHeight(0) == row_height(font, TOP_K, True, False) > row_height(font, TOP_K, False, False)
    assert row_height(font, 12, True, False) == row_height(font, TOP_K, True, False)  # capped at TOP_K bars
    tip = view.predictions.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert all(label in tip for label in labels)


def test_a_long_text_wraps_to_the_cell_and_its_last_line_is_elided(qtbot) -> None:  # noqa: ANN001
    view = _view(qtbot)
    font, width = view.results.font(), 300
    words = " ".join(f"word{i}" for i in range(200))
    lines = wrapped_lines(words, font, width, 4)
    fm = view.results.fontMetrics()
    assert len(lines) == 4 and lines[-1].endswith("…") and all(fm.horizontalAdvance(s) <= width for s in lines)
    assert " ".join(lines[:3]).split() == words.split()[: len(" ".join(lines[:3]).split())]  # in order, none lost
    assert wrapped_lines("short text", font, width, 4) == ["short text"]


def test_runs_predicting_different_lines_are_refused(qtbot) -> None:  # noqa: ANN001
    view = _view(qtbot)
    with pytest.raises(ValueError, match="same lines"):
        view.show_predictions([("A · run-a", _preds(TEXTS, 1)), ("B · run-b", _preds(TEXTS[:2], 2))])


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_painted_cells_use_the_palette(qtbot, scheme: str) -> None:  # noqa: ANN001
    palette = dark_palette() if scheme == "dark" else None
    folder = png_dir("playground")
    for name, columns in [
        ("one-run", [("A · run-a", _preds(TEXTS, 7))]),
        ("two-runs", [("A · run-a", _preds(TEXTS, 7)), ("B · run-b-with-a-longer-name", _preds(TEXTS, 8))]),
        ("note", [("A · run-a", _preds(["I ordered a laptop three weeks ago " * 20], 9, note_every=1))]),
    ]:
        view = _view(qtbot, palette)
        view.show_predictions(columns)
        image = view.results.viewport().grab().toImage()
        assert view.grab().save(str(folder / f"predictions-{name}-{scheme}.png"))
        pal = view.results.palette()
        highlight = pal.color(QPalette.ColorRole.Highlight).rgb()
        colours = {image.pixel(x, y) for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)}
        assert highlight in colours  # the bars' fill
        assert pal.color(QPalette.ColorRole.Base).rgb() in colours  # the cells' background
        if scheme == "dark":
            assert QColor("#ffffff").rgb() not in colours  # nothing hard-coded white on the dark theme
        view.close()


def test_ctrl_c_copies_the_selected_lines_as_tab_separated_text(qtbot) -> None:  # noqa: ANN001
    from PySide6.QtGui import QGuiApplication

    view = _view(qtbot)
    texts = [*TEXTS[:2], "a line\twith a tab"]
    a, b = _preds(texts, 1), _preds(texts, 2, note_every=2)
    view.show_predictions([("A · run-a", a), ("B · run-b", b)])
    everything = view.copy_predictions().splitlines()  # nothing selected: every line
    assert everything[0].split("\t") == ["text"] + [f"{run}: {field}" for run in ("A · run-a", "B · run-b")
                                                   for field in ("label", "probability", "note")]
    assert len(everything) == 4 and everything[3].split("\t")[0] == "a line with a tab"
    view.results.selectRow(1)
    view.results.setFocus()
    qtbot.keyClick(view.results, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    copied = QGuiApplication.clipboard().text().splitlines()
    assert len(copied) == 2, copied  # the header and the selected line
    fields = copied[1].split("\t")
    assert fields[0] == texts[1] and fields[1] == a[1]["label"] and fields[4] == b[1]["label"]
    assert float(fields[2]) == pytest.approx(a[1]["probabilities"][a[1]["label"]], abs=1e-4)
    assert fields[3] == "" and fields[6] == ""  # no truncation note on that line
