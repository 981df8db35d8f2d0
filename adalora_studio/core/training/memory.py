"""The peak memory of a run, for the record it leaves behind (the ``Finished`` event) and the compare table.

RAM is the process's peak resident set size. On Linux the kernel's high-water mark (``VmHWM`` in
``/proc/self/status``) is reset when a run starts (``/proc/self/clear_refs``), so each run of a long-lived
process (the app trains every arm of an A/B in one process) records its own peak, model loading included. Where
it cannot be reset the figure is the process's peak since it started (``ru_maxrss``), which for a first run is
the same thing. On CUDA the peak allocation on the run's device comes from
:func:`.precision.cuda_memory`, after the same reset at the start. A resumed run records the peak since it
resumed. Under several processes each measures its own; the main process's figure is the one logged.
"""

from __future__ import annotations

import sys
from typing import Any

from .precision import cuda_memory


def reset_peak_memory(accelerator: Any) -> None:
    """Start a run's measurement: reset the process's RSS high-water mark (Linux) and torch's CUDA peak."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # 5: reset the peak resident set size to the current one
    except OSError:
        pass  # not Linux, or not allowed: the peak is the process's since it started
    device = getattr(accelerator, "device", None)
    if getattr(device, "type", "") == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats(device)


def peak_rss_mb() -> float | None:
    """The process's peak resident memory in MiB: ``VmHWM`` on Linux, else ``ru_maxrss``; None if unknown."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


def peak_memory(accelerator: Any) -> tuple[float | None, float | None]:
    """``(peak RAM, peak CUDA)`` in MiB since :func:`reset_peak_memory` (CUDA: None off CUDA)."""
    return peak_rss_mb(), cuda_memory(accelerator)["cuda_peak_mb"]
