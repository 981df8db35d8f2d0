"""AdaLoRA against the matched LoRA baseline on the bundled demo data, at two training lengths, N seeds each.

    .venv/bin/python benchmarks/ab_quality.py                              # 200 and 800 steps, 3 seeds
    .venv/bin/python benchmarks/ab_quality.py --lengths 30,90 --seeds 3    # a few minutes on a laptop CPU

Each length runs the studio's own A/B (``core.compare.run_comparison``, what ``adalora-studio ab`` does): per
seed the AdaLoRA arm trains first with the demo config as shipped (MiniLM, the "Quick demo" budget, only
``training.max_steps`` set), then the LoRA arm with the uniform rank whose adapter parameters match the AdaLoRA
arm's final effective count. Both arms evaluate on the same held-out split. Prints per arm the final accuracy
mean ± seed spread (sample standard deviation), the adapter parameters, seconds per optimizer step, the
AdaLoRA/LoRA time ratio and the studio's verdict. Nothing is tuned for either method; report what it prints.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adalora_studio.core.compare import (  # noqa: E402
    ComparisonOutcome,
    arm_stats,
    format_table,
    new_comparison_id,
    read_run_result,
    run_comparison,
    verdict_for,
)
from adalora_studio.core.config import demo_config, with_section  # noqa: E402
from adalora_studio.core.events import Failed, Finished  # noqa: E402


def run_length(steps: int, seeds: int, out_dir: Path, device: str) -> None:
    cfg = demo_config().replace(output_dir=str(out_dir))
    cfg = with_section(cfg, "training", max_steps=steps, device=device, eval_every=0, checkpoint_every=0)
    outcome = ComparisonOutcome(new_comparison_id())
    for item in run_comparison(cfg, seeds=seeds, outcome=outcome):
        if isinstance(item.event, (Finished, Failed)):
            what = item.event.metrics if isinstance(item.event, Finished) else item.event.message
            print(f"  [{item.arm.index + 1}/{item.n_arms}] {item.arm.label}: {what}", flush=True)
    results = [read_run_result(d) for d in outcome.run_dirs]
    stats = {s.method: s for s in arm_stats(results, "accuracy")}
    print(f"\n== {steps} optimizer steps, {seeds} seeds ==")
    print(format_table(list(stats.values()), "accuracy"))
    if "adalora" in stats and "lora" in stats and stats["lora"].seconds_per_step:
        ratio = stats["adalora"].seconds_per_step / stats["lora"].seconds_per_step
        print(f"time per step AdaLoRA / LoRA = {ratio:.3f}")
    print("verdict: " + " ".join(verdict_for(results, "accuracy")))
    for problem in outcome.problems:
        print(f"problem: {problem}")
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", default="200,800", help="optimizer steps per run, comma-separated")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--keep", metavar="DIR", help="keep the run folders here (default: a temporary folder)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    lengths = [int(x) for x in args.lengths.split(",") if x.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep) if args.keep else Path(tmp)
        for steps in lengths:
            run_length(steps, args.seeds, out / f"steps-{steps}", args.device)


if __name__ == "__main__":
    main()
