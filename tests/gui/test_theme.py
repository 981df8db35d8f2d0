"""App icon at every size and a palette following the (overridable) light/dark scheme."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication

from adalora_studio.gui.theme import app_icon, apply_theme, is_dark


def test_icon_has_every_png_size_and_scales(qapp: QApplication) -> None:
    icon = app_icon()
    assert {s.width() for s in icon.availableSizes()} == {16, 24, 32, 48, 64, 128, 256, 512}
    assert icon.pixmap(QSize(1024, 1024)).width() >= 512  # the SVG (or the 512 PNG) serves big sizes


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_override_sets_a_matching_palette(qapp: QApplication, monkeypatch: pytest.MonkeyPatch, scheme: str) -> None:
    monkeypatch.setenv("ADALORA_STUDIO_THEME", scheme)
    try:
        assert apply_theme(qapp) == scheme
        assert is_dark(qapp.palette()) == (scheme == "dark")
        assert not qapp.windowIcon().isNull()
        assert QApplication.desktopFileName() == "adalora-studio"
    finally:
        monkeypatch.setenv("ADALORA_STUDIO_THEME", "light")
        apply_theme(qapp)
