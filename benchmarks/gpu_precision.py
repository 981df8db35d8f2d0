"""GPU precision paths (not a test): s/step and peak VRAM of the causal-lm demo on SmolLM2-135M in fp32, bf16,
fp16 and (when bitsandbytes is installed) a 4-bit base, each measured by the preflight dry run
(``core.training.measure_run``: real optimizer steps on the real model and data, nothing left behind).

Usage::

    .venv/bin/python benchmarks/gpu_precision.py --steps 20
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.throughput_parts import make_config  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args(argv)

    import torch

    from adalora_studio.core.config import with_section
    from adalora_studio.core.training import measure_run

    if not torch.cuda.is_available():
        print("No CUDA GPU here; nothing to measure.")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ADALORA_STUDIO_HOME"] = str(Path(tmp) / "home")
        base = make_config("causal-lm", Path(tmp), 200, "cuda")
        if base is None:
            print("The bundled SmolLM2 is not installed; nothing to measure.")
            return 2
        base = with_section(base, "training", batch_size=args.batch_size)
        variants = [("fp32", base), ("bf16", with_section(base, "training", precision="bf16")),
                    ("fp16", with_section(base, "training", precision="fp16")),
                    ("fp32 + gradient checkpointing", with_section(base, "training", gradient_checkpointing=True))]
        if importlib.util.find_spec("bitsandbytes") is not None:
            variants.append(("4-bit base (bf16 compute)", dataclasses.replace(
                with_section(base, "training", precision="bf16"),
                model=dataclasses.replace(base.model, load_in_4bit=True))))
        else:
            print("bitsandbytes is not installed: the 4-bit row is skipped (pip install 'adalora-studio[quant]')")
        print(f"{torch.cuda.get_device_name()}, SmolLM2-135M causal-lm demo, batch {args.batch_size} x 64 tokens")
        for name, cfg in variants:
            try:
                r = measure_run(cfg, steps=args.steps, warmup=3)
            except Exception as exc:  # one failing variant must not hide the others' figures
                print(f"  {name:32s} FAILED: {type(exc).__name__}: {exc}")
                continue
            print(f"  {name:32s} {r.s_per_step * 1e3:7.1f} ms/step  peak VRAM {r.peak_vram_mb:7.0f} MiB  "
                  f"projected {r.projected_s:6.0f} s for {r.total_steps} steps")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
