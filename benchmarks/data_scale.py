"""Data-path scale benchmark (not a test): how long does ``validate``'s data work take on a 1M-row CSV, next to
pyarrow's own read of the same file, and how much memory does it use?

Writes a CSV of ``--rows`` rows (default 1,000,000; about 75 MB: a ~65-character text with a quoted comma in
some rows, and one of five labels) once into ``--dir``, then runs each measurement in a fresh Python process:

  (a) ``pyarrow.csv.read_csv`` of the file (the reference: 1x),
  (b) the data part of ``adalora-studio validate``: ``core.data.examine_dataset`` = inspect_dataset (read, checks,
      labels, split) plus the doctor (token lengths on a 1,000-row sample, label balance, train/eval duplicates)
      with an empty cache (the first validate of a file: it is converted into the memory-mapped cache),
  (c) the same again with the cache filled (every later validate, training and resume of that file version),
  (d) the same for the bundled 1,200-row demo file, for scale.

The tokenizer (the bundled MiniLM's) is loaded before timing: it costs the same for any file. Each process
prints its wall time and its peak resident memory; memory is also given as growth over the process's resident
size just before the data work began (imports and tokenizer excluded), which is what grows with the file.
Run on a quiet machine; the figures are medians of ``--repeat`` runs.

Usage::

    .venv/bin/python benchmarks/data_scale.py                 # 1M rows, 3 repeats
    .venv/bin/python benchmarks/data_scale.py --rows 200000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

WORDS = ("order parcel refund invoice account password login shipping billing delayed broken screen battery "
         "charger payment card address courier tracking number support please help thanks").split()
LABELS = ("billing", "shipping", "account", "technical", "feedback")


def write_csv(path: Path, rows: int, seed: int = 0) -> None:
    """The benchmark file: header ``text,label``; every seventh text quotes a comma."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("text,label\n")
        for i in range(rows):
            text = " ".join(rng.choice(WORDS) for _ in range(9)) + f" {i}"
            if i % 7 == 0:
                text = f'"{text}, again"'
            fh.write(f"{text},{LABELS[rng.randrange(5)]}\n")


CHILD = r"""
import json, os, resource, sys, time
mode, path = sys.argv[1], sys.argv[2]
def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
if mode == "pyarrow":
    import pyarrow.csv
    before = rss_mb(); t = time.perf_counter()
    table = pyarrow.csv.read_csv(path)
    rows = table.num_rows
else:
    from adalora_studio.core.config import RunConfig, with_section
    from adalora_studio.core.data import examine_dataset
    from adalora_studio.core.model import load_tokenizer
    cfg = with_section(RunConfig(), "data", train_file=path, max_length=64)
    tokenizer = load_tokenizer(cfg.model)
    tokenizer("warm up")
    import datasets, pyarrow  # noqa: F401  (imported by the data path; not part of its time)
    before = rss_mb(); t = time.perf_counter()
    summary, report = examine_dataset(cfg, tokenizer)  # what validate does
    rows = summary.n_train + summary.n_eval
elapsed = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"s": elapsed, "peak_mb": peak, "growth_mb": peak - before, "rows": rows}))
"""


def run(mode: str, path: Path, home: Path) -> dict[str, float]:
    env = dict(os.environ, ADALORA_STUDIO_HOME=str(home), OMP_NUM_THREADS="1", HF_DATASETS_DISABLE_PROGRESS_BARS="1")
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], env=env, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def median(results: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=str(Path(tempfile.gettempdir()) / "adalora-data-scale"))
    args = parser.parse_args()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"scale-{args.rows}.csv"
    if not path.exists():
        write_csv(path, args.rows)
    from adalora_studio.core import paths

    demo = paths.demo_classification_file()
    print(f"file: {path} ({path.stat().st_size / 1e6:.1f} MB, {args.rows:,} rows)")
    results: dict[str, list[dict[str, float]]] = {"pyarrow": [], "cold": [], "warm": [], "demo": []}
    for i in range(args.repeat):
        home = folder / f"home-{i}"
        subprocess.run(["rm", "-rf", str(home)], check=True)
        results["pyarrow"].append(run("pyarrow", path, home))
        results["cold"].append(run("studio", path, home))
        results["warm"].append(run("studio", path, home))
        results["demo"].append(run("studio", demo, home))
    ref = median(results["pyarrow"], "s")
    names = {"pyarrow": "pyarrow.csv.read_csv (reference)", "cold": "validate data path, empty cache",
             "warm": "validate data path, cache filled", "demo": "validate data path, 1,200-row demo"}
    print(f"{'measurement':40} {'time s':>8} {'x pyarrow':>10} {'peak MB':>9} {'growth MB':>10}")
    for key, label in names.items():
        t = median(results[key], "s")
        print(f"{label:40} {t:8.2f} {t / ref:10.2f} {median(results[key], 'peak_mb'):9.0f} "
              f"{median(results[key], 'growth_mb'):10.0f}")


if __name__ == "__main__":
    main()
