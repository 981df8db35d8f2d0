"""Where GUI tests save PNGs of the views they drive, for a person to look at."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def png_dir(sub: str = "") -> Path:
    """``$STUDIO_PNG_DIR/sub`` when that is set, else ``<temp>/adalora-studio-png/sub``; created."""
    root = Path(os.environ.get("STUDIO_PNG_DIR") or Path(tempfile.gettempdir()) / "adalora-studio-png")
    folder = root / sub if sub else root
    folder.mkdir(parents=True, exist_ok=True)
    return folder
