"""The worker's first act: torch's native libraries mapped without importing torch, and the torch-free core
packages the window uses lazily imported on the worker thread (a fresh process: here everything is imported)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

CHILD = r"""
import json, sys, threading
from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
app = QCoreApplication([])
from adalora_studio.gui.worker import WARM_MODULES, TorchWorker
worker = TorchWorker()
def probe():
    with open("/proc/self/maps") as fh:
        maps = fh.read()
    return {"warm": [m in sys.modules for m in WARM_MODULES], "torch": "torch" in sys.modules,
            "mapped": "libtorch_cpu" in maps, "thread": threading.current_thread().name}
job = worker.submit(probe)
loop = QEventLoop()
job.succeeded.connect(loop.quit)
QTimer.singleShot(120_000, loop.quit)
loop.exec()
worker.shutdown(60_000)
print(json.dumps({**job.result, "gui_thread": threading.current_thread().name}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_the_worker_preloads_torch_libraries_and_warms_core_before_its_first_job() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, timeout=300,
                         env=env)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert all(got["warm"]) and got["mapped"]
    assert not got["torch"]  # mapped, not imported: the first job that needs torch imports it
    assert got["thread"] != got["gui_thread"]
