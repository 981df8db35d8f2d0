"""What the app sets up at start-up so the worker cannot stall the window (a fresh process: it is process-wide)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

CHILD = r"""
import gc, json, sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
before = sys.getswitchinterval()
from adalora_studio.gui.gil import SWITCH_INTERVAL_S, keep_window_responsive
keep_window_responsive()
from adalora_studio.gui import gc_guard
print(json.dumps({"before": before, "after": sys.getswitchinterval(), "target": SWITCH_INTERVAL_S,
                  "gc_enabled": gc.isenabled(), "collector": gc_guard._guard is not None}))
"""


def test_the_app_shortens_the_gil_switch_interval_and_collects_on_the_gui_thread() -> None:
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, timeout=120,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["before"] == 0.005 and got["after"] == got["target"] == 0.001
    assert got["collector"] and not got["gc_enabled"]
