"""AdaLoRA's own per-step work, peft's code against the fast path (not a test): the allocator's EMA update, the
orthogonality term (forward + backward) and the final phase's masking, on the real adapter shapes of the bundled
MiniLM (every attention and feed-forward matrix) or SmolLM2-135M (7 matrix types), init_r 8.

Each part is timed ``--repeat`` times, peft and fast alternating, and the medians are printed (thread CPU time and
wall clock) with the ratio; the full step is what ``engine_throughput.py`` measures.

Usage::

    .venv/bin/python benchmarks/adalora_overhead.py --threads 1 --task causal-lm
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.throughput_parts import HandStepper, make_config  # noqa: E402


def _timed(fn: Any, device: str) -> tuple[float, float]:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
    t0, c0 = time.perf_counter(), time.thread_time()
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0, time.thread_time() - c0


def parts(model: Any) -> dict[str, tuple[Any, Any]]:
    """``{part: (peft's callable, the fast path's callable)}`` on one AdaLoRA model with gradients."""
    from peft.tuners.adalora import AdaLoraModel

    from adalora_studio.core.adalora import FastAllocator, batched_orth_regulariser
    from adalora_studio.core.adalora.fast_allocator import _orth_groups

    inner = model.base_model
    ra, fast = inner.rankallocator, FastAllocator(model)
    ab = [(n, p) for n, p in inner.model.named_parameters() if "lora_A" in n or "lora_B" in n]
    groups = _orth_groups(ab)
    pattern = {n: [i % 2 == 0 for i in range(p.shape[0])] for n, p in inner.model.named_parameters()
               if "lora_E" in n}

    def peft_orth() -> None:  # AdaLoraModel.forward's loop, as written in peft
        import torch

        regu: Any = 0
        for n, p in ab:
            cov = p @ p.T if "lora_A" in n else p.T @ p
            eye = torch.eye(*cov.size(), out=torch.empty_like(cov))
            regu = regu + torch.norm(cov - eye, p="fro")
        (regu / len(ab)).backward()

    def fast_orth() -> None:
        batched_orth_regulariser(groups, len(ab)).backward()

    assert isinstance(inner, AdaLoraModel)
    return {
        "update_ipt (EMAs)": (lambda: ra.update_ipt(inner.model), fast.update_ipt),
        "orthogonality fwd+bwd": (peft_orth, fast_orth),
        "final-phase masking": (lambda: ra.mask_using_rank_pattern(inner.model, pattern),
                                lambda: fast.mask_using_rank_pattern(pattern)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="classification", choices=("classification", "causal-lm"))
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ADALORA_STUDIO_HOME"] = str(Path(tmp) / "home")
        cfg = make_config(args.task, Path(tmp), 100, args.device)
        if cfg is None:
            print("The bundled model is not installed; nothing to measure.")
            return 2
        stepper = HandStepper(cfg, args.device, "reference")
        model = stepper.model
        model(**stepper._next_batch()).loss.backward()  # gradients for the EMA update
        n = sum(1 for name, _ in model.named_parameters() if "lora_" in name)
        print(f"{args.task} on {args.device}: {n} adapter tensors, init_r {cfg.budget.init_r}, "
              f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}")
        for part, (slow, fast) in parts(model).items():
            times: dict[str, list[tuple[float, float]]] = {"peft": [], "fast": []}
            for _ in range(3):  # warm-up
                slow()
                fast()
            for i in range(args.repeat):
                for name, fn in (("peft", slow), ("fast", fast)) if i % 2 == 0 else (("fast", fast), ("peft", slow)):
                    times[name].append(_timed(fn, args.device))
            med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
                   for k, v in times.items()}
            print(f"  {part:24s} peft {med['peft'][1] * 1e3:7.2f} ms CPU ({med['peft'][0] * 1e3:7.2f} wall)   "
                  f"fast {med['fast'][1] * 1e3:7.2f} ms CPU ({med['fast'][0] * 1e3:7.2f} wall)   "
                  f"peft/fast {med['peft'][1] / med['fast'][1]:5.2f}x CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
