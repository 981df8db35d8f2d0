"""Torch's native libraries are loaded before ``import torch`` without holding the GIL (app/native_libs.py).

Each check runs in a fresh interpreter: in this test process torch is already imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")

CHILD = r"""
import json, sys, threading, time
from adalora_studio.app.native_libs import preload_torch_libraries, torch_library_plan
plan = [str(p) for p, _ in torch_library_plan()]
ticks, loaded = [], []
worker = threading.Thread(target=lambda: loaded.extend(preload_torch_libraries()))
worker.start()
while worker.is_alive():  # the main thread runs Python while the worker is inside dlopen, or it cannot
    ticks.append(time.perf_counter())
    time.sleep(0.0005)
worker.join()
with open("/proc/self/maps") as fh:
    maps = fh.read()
torch_imported_early = "torch" in sys.modules
import torch
value = float(torch.arange(4.0).sum())
again = preload_torch_libraries()  # torch is imported now: nothing to do
print(json.dumps({"plan": plan, "loaded": loaded, "ticks": ticks, "mapped_cpu": "libtorch_cpu" in maps,
                  "torch_imported_early": torch_imported_early, "value": value, "again": again}))
"""


def test_preload_maps_torch_libraries_without_importing_torch_and_releases_the_gil() -> None:
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, timeout=300)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["plan"][-1].split("/")[-1].startswith("_C.")  # torch's extension module comes last
    assert [path for path, _, _ in got["loaded"]] == got["plan"]  # every file of the plan, in order
    assert got["mapped_cpu"] and not got["torch_imported_early"]
    assert got["value"] == 6.0 and got["again"] == []
    _, start, end = got["loaded"][-1]  # loading torch/_C pulls in libtorch_cpu: the long one
    inside = [t for t in got["ticks"] if start < t < end]
    assert inside, "the main thread never ran while torch's libraries loaded: the GIL was held"


def test_a_failed_dlopen_stops_the_preload_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from adalora_studio.app import native_libs

    calls: list[bytes] = []

    def failing(path: bytes, flags: int) -> int:
        calls.append(path)
        return 0  # dlopen's NULL

    monkeypatch.setattr(native_libs, "torch_library_plan", lambda: [(Path(sys.executable), 0)] * 2)
    assert native_libs.preload_torch_libraries(failing) == []
    assert len(calls) == 1  # it stopped at the first failure and left the rest to import torch


def test_a_cuda_build_gets_only_the_global_deps_preloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from adalora_studio.app import native_libs

    opened: list[bytes] = []
    monkeypatch.setattr(native_libs, "torch_library_plan",
                        lambda: [(Path("/x/lib/libtorch_global_deps.so"), 0), (Path("/x/_C.so"), 0)])
    monkeypatch.setattr(native_libs, "_cuda_runtime_loaded", lambda: True)  # libcudart came with the global deps
    loaded = native_libs.preload_torch_libraries(lambda path, flags: opened.append(path) or 1)
    assert opened == [b"/x/lib/libtorch_global_deps.so"] and [p for p, _, _ in loaded] == [opened[0].decode()]
    monkeypatch.setattr(native_libs, "_cuda_runtime_loaded", lambda: False)  # a CPU build: both
    opened.clear()
    assert len(native_libs.preload_torch_libraries(lambda path, flags: opened.append(path) or 1)) == 2
