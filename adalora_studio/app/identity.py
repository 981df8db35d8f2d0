"""Who the app is to the desktop: one id for the menu entry, the icon and the window class, and its names."""

from __future__ import annotations

from ..core.errors import StudioError

APP_ID = "adalora-studio"
"""Desktop file id, icon name and X11 window class (``StartupWMClass``): one name for all three."""
DISPLAY_NAME = "AdaLoRA Studio"
DESCRIPTION = "Fine-tune Hugging Face models with AdaLoRA and watch the rank budget move"


class DesktopError(StudioError):
    """The start-menu entry could not be installed or removed; the message says what to do."""
