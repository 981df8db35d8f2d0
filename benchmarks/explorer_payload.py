"""Explorer payload benchmark (not a test): what the importance explorer's data costs per mask step, next to one
training step, on the bundled MiniLM with the engine's default targets (every attention and feed-forward matrix).

Builds the peft AdaLoRA model as the engine does, trains ``--warm`` steps so the allocator holds scores, then times
side by side, ``--repeats`` times each (medians):

  (a) one optimizer step (forward, backward, AdamW, update_and_allocate; batch 16 x 64 tokens),
  (b) the snapshot the engine always took at a mask step (triplet scores + rank pattern + RanksUpdated + JSON),
  (c) the explorer's additions: Λ and orthogonality residual of every matrix (``read_spectra``), the threshold,
      and the larger JSON line.

  (d) the second ``triplet_scores`` call the engine used to make at every mask step (it now reuses the scores it
      reads for the threshold),

Times are CPU time of the thread (``time.thread_time``: robust against other processes on a shared machine;
the work is single-threaded with ``--threads 1``). It prints (c)/(a), and (c - d)/(a) divided by ``delta_t``:
the net per-step share at one mask step every ``delta_t`` steps.

Usage::

    .venv/bin/python benchmarks/explorer_payload.py --threads 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _median_ms(fn, repeats: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeats):
        t0 = time.thread_time()
        fn()
        times.append(time.thread_time() - t0)
    return 1000 * statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warm", type=int, default=3, help="training steps before timing")
    parser.add_argument("--delta-t", type=int, default=10, help="mask every delta_t steps (the studio default: 10)")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)

    import torch

    from adalora_studio.core.adalora import (
        build_peft_model,
        mask_threshold,
        read_spectra,
        snapshot_ranks,
        triplet_scores,
    )
    from adalora_studio.core.events import event_to_json
    from benchmarks.engine_throughput import _prepared, make_config, make_data

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = make_config(make_data(Path(tmp), 360), Path(tmp) / "runs", 200, "cpu")
        model, data, collate, plan = _prepared(cfg)
        peft_model = build_peft_model(model, cfg, plan)
        params = [p for p in peft_model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=5e-4)
        batch = collate([data.train[i] for i in range(16)])
        counter = iter(range(10**9))

        def train_step() -> None:
            peft_model(**batch).loss.backward()
            opt.step()
            peft_model.base_model.update_and_allocate(plan.tinit_steps + 1 + next(counter) % 5)
            opt.zero_grad()

        for _ in range(args.warm):
            train_step()
        scores = triplet_scores(peft_model)
        base = snapshot_ranks(peft_model, 10, plan, scores=scores)
        spectra = read_spectra(peft_model)
        full = snapshot_ranks(peft_model, 10, plan, scores=scores, spectra=spectra, mask_step=True)

        step_ms = _median_ms(train_step, args.repeats)
        before_ms = _median_ms(lambda: event_to_json(snapshot_ranks(peft_model, 10, plan)), args.repeats)
        added_ms = _median_ms(lambda: (read_spectra(peft_model), mask_threshold(scores, plan.init_budget, 100),
                                       event_to_json(full)), args.repeats) - _median_ms(
            lambda: event_to_json(base), args.repeats)
        saved_ms = _median_ms(lambda: triplet_scores(peft_model), args.repeats)
    print(f"MiniLM, {plan.n_targets} matrices, init_r {plan.init_r}, torch threads {torch.get_num_threads()}")
    print(f"  (a) one optimizer step              {step_ms:8.2f} ms")
    print(f"  (b) snapshot as before              {before_ms:8.2f} ms   ({len(event_to_json(base)):,} bytes)")
    extra = len(event_to_json(full)) - len(event_to_json(base))
    print(f"  (c) explorer additions              {added_ms:8.2f} ms   (+{extra:,} bytes)")
    print(f"  (d) second triplet_scores, dropped  {saved_ms:8.2f} ms")
    print(f"  (c)/(a) at a mask step              {100 * added_ms / step_ms:8.2f} %")
    net = (added_ms - saved_ms) / step_ms / args.delta_t
    print(f"  (c-d)/(a) per step, delta_t {args.delta_t:<3}      {100 * net:8.3f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
