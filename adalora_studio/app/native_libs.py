"""Load torch's native libraries ahead of ``import torch``, without holding Python's GIL (no Qt, no torch here).

``import torch`` starts by loading ``libtorch_cpu.so`` and its neighbours (hundreds of MB of code whose static
initialisers register every operator). Python loads an extension module with the GIL held, so while the torch
worker thread imports torch the GUI thread cannot run a line of Python: the window froze for 200-400 ms on the
first model job. A call through :mod:`ctypes` releases the GIL, so :func:`preload_torch_libraries` asks the C
library's ``dlopen`` for the same files, in the same order and with the same flags torch's own ``__init__`` uses
(``libtorch_global_deps`` with ``RTLD_GLOBAL``, then ``torch/_C`` with Python's extension-module flags). The later
``import torch`` finds them loaded and only runs the module's Python-facing initialisation.

It is an optimisation only: on Windows, with ``TORCH_USE_RTLD_GLOBAL`` set (torch then loads itself differently),
or when a file is missing or fails to load, it stops and ``import torch`` does everything as usual. On a CUDA build
it loads ``libtorch_global_deps`` only: torch's own import preloads some CUDA libraries by path before ``torch/_C``,
and a preload of ``_C`` must not get ahead of that.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

Loaded = tuple[str, float, float]
"""(path, perf_counter at the start of its ``dlopen``, at its end)."""


def torch_library_plan() -> list[tuple[Path, int]]:
    """The files torch's ``__init__`` loads first and the ``dlopen`` flags it uses; empty when torch is not
    installed, already imported, on Windows, or loads itself with ``TORCH_USE_RTLD_GLOBAL``."""
    if sys.platform.startswith("win") or "torch" in sys.modules or os.environ.get("TORCH_USE_RTLD_GLOBAL"):
        return []
    spec = importlib.util.find_spec("torch")  # finds the package without running it
    if spec is None or spec.origin is None:
        return []
    package = Path(spec.origin).parent
    suffix = ".dylib" if sys.platform == "darwin" else ".so"
    extension = sorted(package.glob("_C.*.so")) or sorted(package.glob("_C.so"))
    if not extension:
        return []
    plan = [(extension[0], sys.getdlopenflags())]
    global_deps = package / "lib" / f"libtorch_global_deps{suffix}"
    if global_deps.is_file():
        plan.insert(0, (global_deps, os.RTLD_GLOBAL | os.RTLD_NOW))
    return plan


def preload_torch_libraries(dlopen: Callable[[bytes, int], int] | None = None) -> list[Loaded]:
    """``dlopen`` each file of :func:`torch_library_plan` with the GIL released; returns what was loaded, with
    the start and end time of each load (empty when nothing was). Never raises: a failure is logged and the rest
    is left to ``import torch``."""
    plan = torch_library_plan()
    if not plan:
        return []
    try:
        dlopen = dlopen or _libc_dlopen()
    except (OSError, AttributeError) as exc:
        log.debug("no dlopen to preload torch with: %s", exc)
        return []
    loaded: list[Loaded] = []
    for path, flags in plan:
        if loaded and _cuda_runtime_loaded():
            log.debug("a CUDA build of torch: its own import loads the rest (it preloads CUDA libraries first)")
            break
        start = time.perf_counter()
        if not dlopen(os.fsencode(path), flags):
            log.debug("preloading %s failed; import torch will load it", path)
            break
        loaded.append((str(path), start, time.perf_counter()))
    if loaded:
        log.debug("preloaded torch's native libraries in %.0f ms", 1000 * (loaded[-1][2] - loaded[0][1]))
    return loaded


def _cuda_runtime_loaded() -> bool:
    """Whether ``libcudart`` is mapped (after ``libtorch_global_deps``: a CUDA build). torch's ``__init__`` then
    preloads some CUDA libraries by path before it loads ``torch/_C`` (so that ``LD_LIBRARY_PATH`` cannot pick other
    versions of them), which a preload of ``_C`` must not get ahead of. Unreadable maps count as yes."""
    if sys.platform == "darwin":
        return False  # no CUDA builds there
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            return "libcudart" in fh.read()
    except OSError:
        return True


def _libc_dlopen() -> Callable[[bytes, int], int]:
    """The C library's ``dlopen`` as a ctypes function (ctypes releases the GIL for the length of the call)."""
    function = ctypes.CDLL(None).dlopen
    function.argtypes = [ctypes.c_char_p, ctypes.c_int]
    function.restype = ctypes.c_void_p
    return function
