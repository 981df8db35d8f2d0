"""Look: the app icon at every size, and a palette that follows the system's light/dark setting.

``apply_theme(app)`` once after creating the QApplication. Where the platform already paints in the system's
scheme (macOS, Windows 11, KDE, GNOME with a Qt platform theme) nothing is overridden; where it does not (a
bare X11 session, Qt's own fallback theme) the Fusion style gets a matching light or dark palette. The choice is
re-applied when the system switches scheme while the app runs. ``ADALORA_STUDIO_THEME=light|dark|system``
overrides the system setting.
"""

from __future__ import annotations

import os
from functools import lru_cache

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from ..app.identity import APP_ID
from ..core import paths

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
THEME_ENV = "ADALORA_STUDIO_THEME"
_APPLIED = "_adalora_theme_connected"
_OVERRIDDEN = "_adalora_theme_overridden"


@lru_cache(maxsize=1)
def app_icon() -> QIcon:
    """The application icon: every PNG size plus the SVG, so it is crisp at any scale and DPI."""
    icons = paths.resources_dir() / "icons"
    icon = QIcon()
    for size in ICON_SIZES:
        png = icons / f"{APP_ID}-{size}.png"
        if png.is_file():
            icon.addFile(str(png), QSize(size, size))
    svg = icons / f"{APP_ID}.svg"
    if svg.is_file():
        icon.addFile(str(svg))
    return icon


def is_dark(palette: QPalette) -> bool:
    """Whether ``palette`` paints light text on a dark window."""
    return palette.color(QPalette.ColorRole.Window).lightness() < palette.color(
        QPalette.ColorRole.WindowText
    ).lightness()


def system_scheme(app: QGuiApplication) -> str:
    """``"dark"`` or ``"light"``: the override variable, else Qt's colour-scheme hint, else the palette."""
    wanted = os.environ.get(THEME_ENV, "system").strip().lower()
    if wanted in ("light", "dark"):
        return wanted
    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return "dark"
    if scheme == Qt.ColorScheme.Light:
        return "light"
    return "dark" if is_dark(app.palette()) else "light"


def dark_palette() -> QPalette:
    """A dark palette for the Fusion style (accessible contrast; links and highlights in the icon's teal)."""
    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    colours = {
        role.Window: "#26272b", role.WindowText: "#e8e8ea", role.Base: "#1d1e21",
        role.AlternateBase: "#2c2d31", role.ToolTipBase: "#2c2d31", role.ToolTipText: "#e8e8ea",
        role.PlaceholderText: "#8d8f96", role.Text: "#e8e8ea", role.Button: "#303136",
        role.ButtonText: "#e8e8ea", role.BrightText: "#ff6b6b", role.Light: "#3a3b40",
        role.Midlight: "#33343a", role.Mid: "#2a2b2f", role.Dark: "#18191b", role.Shadow: "#0d0d0e",
        role.Highlight: "#2aa7b8", role.HighlightedText: "#0f1113", role.Link: "#5cc8d6",
        role.LinkVisited: "#9b8cf0",
    }
    for r, value in colours.items():
        p.setColor(r, QColor(value))
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group.Disabled, r, QColor("#74767c"))
    p.setColor(group.Disabled, role.Highlight, QColor("#3d4a4d"))
    return p


def light_palette() -> QPalette:
    """Fusion's own light palette, with the icon's teal for highlights."""
    style = QStyleFactory.create("Fusion")
    p = style.standardPalette() if style is not None else QPalette()
    p.setColor(QPalette.ColorRole.Highlight, QColor("#167f8f"))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.Link, QColor("#12707e"))
    return p


def apply_theme(app: QApplication) -> str:
    """Set the app icon and desktop file name, and a palette matching the system scheme; return the scheme.

    Safe to call more than once; the first call also follows later system scheme changes.
    """
    app.setWindowIcon(app_icon())
    if not QGuiApplication.desktopFileName():
        QGuiApplication.setDesktopFileName(APP_ID)  # Wayland app id; must match the .desktop file name
    scheme = system_scheme(app)
    if app.property(_OVERRIDDEN):
        app.setPalette(QPalette())  # back to the platform's palette, to judge it afresh
    overridden = is_dark(app.palette()) != (scheme == "dark")
    if overridden:
        if app.style().name().lower() != "fusion":
            app.setStyle("Fusion")
        app.setPalette(dark_palette() if scheme == "dark" else light_palette())
    app.setProperty(_OVERRIDDEN, overridden)
    if not app.property(_APPLIED):
        app.setProperty(_APPLIED, True)
        app.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_theme(app))
    return scheme
