"""Paints one run's prediction in a table cell: the bold head line (run, predicted label, its probability), the top
classes as labelled bars with their percentages (highest first, the predicted class bold, "+N more" below when
there are more), and the truncation note. Colours come from the palette (the bars' fill is its Highlight), so
light and dark themes both read; nothing is a widget, so only the rows on screen cost anything."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QTextLayout
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from ..theme import is_dark
from .predictions_model import CELL_ROLE, PredictionCell

TOP_K = 5
"""Classes drawn per cell; the tooltip lists them all."""
PAD = 6
GAP = 8
BAR_SPACING = 3
LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

Index = QModelIndex | QPersistentModelIndex


def row_height(font: QFont, classes: int, more: bool, note: bool) -> int:
    """Height of a row showing ``classes`` bars (at most :data:`TOP_K`), a "+N more" line and a note line."""
    line = QFontMetrics(font).height()
    bold = QFont(font)
    bold.setBold(True)
    head = QFontMetrics(bold).height()
    shown = min(classes, TOP_K)
    return 2 * PAD + head + BAR_SPACING + shown * (line + BAR_SPACING) + (line if more else 0) + (line if note else 0)


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved a share ``t`` towards ``b``."""
    return QColor(round(a.red() + (b.red() - a.red()) * t), round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t))


class PredictionDelegate(QStyledItemDelegate):
    """Draws :data:`~.predictions_model.CELL_ROLE` cells; other cells (the input text) the default way."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:  # noqa: N802 - Qt's signature
        cell = index.data(CELL_ROLE)
        if not isinstance(cell, PredictionCell):
            return super().sizeHint(option, index)
        return QSize(220, row_height(option.font, len(cell.ranked), len(cell.ranked) > TOP_K, bool(cell.note)))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        cell = index.data(CELL_ROLE)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is None:
            super().paint(painter, option, index)
            return
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)  # background, selection
        painter.save()
        try:
            if isinstance(cell, PredictionCell):
                self._paint_cell(painter, opt, cell)
            else:  # the input text, wrapped and elided on its last line, inset like the run cells
                _paint_text(painter, opt, text)
        finally:
            painter.restore()

    def _paint_cell(self, painter: QPainter, opt: QStyleOptionViewItem, cell: PredictionCell) -> None:
        pal = opt.palette
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        bg, fg = _colours(opt)
        fill = pal.color(_group(opt), QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Highlight)
        track = _mix(bg, fg, 0.14)
        muted = _mix(bg, fg, 0.62)
        rect = opt.rect.adjusted(PAD, PAD, -PAD, -PAD)
        font = QFont(opt.font)
        bold = QFont(font)
        bold.setBold(True)
        fm, fmb = QFontMetrics(font), QFontMetrics(bold)
        painter.setClipRect(opt.rect)
        painter.setPen(fg)
        painter.setFont(bold)
        y = rect.top()
        painter.drawText(QRect(rect.left(), y, rect.width(), fmb.height()),
                         LEFT, _head(cell, fmb, rect.width()))
        y += fmb.height() + BAR_SPACING
        shown = cell.ranked[:TOP_K]
        pct_w = fm.horizontalAdvance("100.0%")
        label_w = min(max((fmb.horizontalAdvance(lab) for lab, _ in shown), default=0), int(rect.width() * 0.4))
        bar_left = rect.left() + label_w + GAP
        bar_w = max(0, rect.right() - pct_w - GAP - bar_left)
        line = fm.height()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for label, p in shown:
            painter.setFont(bold if label == cell.label else font)
            painter.setPen(fg)
            painter.drawText(QRect(rect.left(), y, label_w, line),
                             LEFT,
                             (fmb if label == cell.label else fm).elidedText(label, Qt.TextElideMode.ElideRight,
                                                                             label_w))
            bar = QRect(bar_left, y + 3, bar_w, max(4, line - 6))
            painter.fillRect(bar, track)
            painter.fillRect(QRect(bar.left(), bar.top(), round(bar.width() * min(max(p, 0.0), 1.0)),
                                   bar.height()), fill)
            painter.setFont(font)
            painter.drawText(QRect(rect.right() - pct_w, y, pct_w, line),
                             RIGHT, f"{p:.1%}")
            y += line + BAR_SPACING
        painter.setFont(font)
        if len(cell.ranked) > TOP_K:
            painter.setPen(muted)
            painter.drawText(QRect(rect.left(), y, rect.width(), line),
                             LEFT,
                             f"+{len(cell.ranked) - TOP_K} more (hover for all)")
            y += line
        if cell.note:
            painter.setPen(fg if selected else _warning(pal))
            painter.drawText(QRect(rect.left(), y, rect.width(), line),
                             LEFT,
                             fm.elidedText(f"⚠ {cell.note}", Qt.TextElideMode.ElideRight, rect.width()))


def _group(opt: QStyleOptionViewItem) -> QPalette.ColorGroup:
    return QPalette.ColorGroup.Normal if opt.state & QStyle.StateFlag.State_Enabled else QPalette.ColorGroup.Disabled


def _colours(opt: QStyleOptionViewItem) -> tuple[QColor, QColor]:
    """(background, text) colours of the cell: the palette's, selected or (alternate) base."""
    pal, group, role = opt.palette, _group(opt), QPalette.ColorRole
    selected = bool(opt.state & QStyle.StateFlag.State_Selected)
    alternate = bool(opt.features & QStyleOptionViewItem.ViewItemFeature.Alternate)
    bg = pal.color(group, role.Highlight if selected else role.AlternateBase if alternate else role.Base)
    return bg, pal.color(group, role.HighlightedText if selected else role.Text)


def wrapped_lines(text: str, font: QFont, width: int, max_lines: int) -> list[str]:
    """``text`` word-wrapped to ``width``, at most ``max_lines`` lines, the last one elided when text is left."""
    if width <= 0 or max_lines <= 0:
        return []
    layout = QTextLayout(text, font)
    layout.beginLayout()
    spans: list[tuple[int, int]] = []
    while len(spans) < max_lines:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        spans.append((line.textStart(), line.textLength()))
    layout.endLayout()
    lines = [text[start:start + length].rstrip() for start, length in spans]
    if spans and sum(spans[-1]) < len(text.rstrip()):
        lines[-1] = QFontMetrics(font).elidedText(text[spans[-1][0]:].replace("\n", " "),
                                                  Qt.TextElideMode.ElideRight, width)
    return lines


def _paint_text(painter: QPainter, opt: QStyleOptionViewItem, text: str) -> None:
    rect = opt.rect.adjusted(PAD, PAD, -PAD, -PAD)
    fm = QFontMetrics(opt.font)
    painter.setClipRect(opt.rect)
    painter.setFont(opt.font)
    painter.setPen(_colours(opt)[1])
    y = rect.top()
    for line in wrapped_lines(text, opt.font, rect.width(), max(1, rect.height() // fm.lineSpacing())):
        painter.drawText(QRect(rect.left(), y, rect.width(), fm.height()), LEFT, line)
        y += fm.lineSpacing()


def _head(cell: PredictionCell, fm: QFontMetrics, width: int) -> str:
    """The head line fitted to ``width``: the run's name is shortened first, so the label and probability stay."""
    if fm.horizontalAdvance(cell.head) <= width:
        return cell.head
    rest = f": {cell.label} ({cell.probability:.1%})"
    room = width - fm.horizontalAdvance(rest)
    if room >= fm.horizontalAdvance("A ·…"):
        return fm.elidedText(cell.name, Qt.TextElideMode.ElideRight, room) + rest
    return fm.elidedText(cell.head, Qt.TextElideMode.ElideRight, width)


def _warning(palette: QPalette) -> Any:
    """An amber that reads on the palette's base (dark or light)."""
    return QColor("#f0b429") if is_dark(palette) else QColor("#a15c00")
