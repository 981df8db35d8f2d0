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
prints its wall time, its peak resident memory and the growth of resident memory over its size just before the
data work began (imports and tokenizer excluded), split by a 2 ms sampler into anonymous memory ("heap": what
the code allocates) and file-backed pages ("mapped": Arrow's memory map of the cached file, which the kernel
can drop at any time). ``--scaling`` repeats the measurement on a quarter and a half of the rows, to show
whether the heap grows with the file. Ratios are per round (each studio run against the pyarrow read just
before it) and as medians of ``--repeat`` rounds; on a loaded machine read the per-round ratios.

Usage::

    .venv/bin/python benchmarks/data_scale.py                            # 1M rows, 3 repeats
    .venv/bin/python benchmarks/data_scale.py --rows 1000000 --repeat 3 --scaling
    .venv/bin/python benchmarks/data_scale.py --rows 200000 --repeat 1
    .venv/bin/python benchmarks/data_scale.py --whole --repeat 3          # also the whole validate command
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
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
import json, os, resource, sys, threading, time
mode, path = sys.argv[1], sys.argv[2]
def status():
    with open("/proc/self/status") as fh:
        return {k: int(v.split()[0]) / 1024 for k, _, v in (line.partition(":") for line in fh)
                if k in ("VmRSS", "RssAnon", "RssFile")}
peaks = {"RssAnon": 0.0, "RssFile": 0.0}
done = threading.Event()
def sample():  # peak anonymous (heap) and file-backed (memory-mapped) resident memory, every 2 ms
    while not done.is_set():
        for key, value in status().items():
            if key in peaks:
                peaks[key] = max(peaks[key], value)
        time.sleep(0.002)
if mode == "pyarrow":
    import pyarrow.csv
else:
    from adalora_studio.core.config import RunConfig, with_section
    from adalora_studio.core.data import examine_dataset
    from adalora_studio.core.model import load_tokenizer
    cfg = with_section(RunConfig(), "data", train_file=path, max_length=64)
    tokenizer = load_tokenizer(cfg.model)
    tokenizer("warm up")
    import datasets, pyarrow  # noqa: F401  (imported by the data path; not part of its time)
before = status()
peaks.update({k: before[k] for k in peaks})
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
t = time.perf_counter()
if mode == "pyarrow":
    rows = pyarrow.csv.read_csv(path).num_rows
else:
    summary, report = examine_dataset(cfg, tokenizer)  # what validate does
    rows = summary.n_train + summary.n_eval
elapsed = time.perf_counter() - t
done.set()
sampler.join()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"s": elapsed, "peak_mb": peak, "growth_mb": peak - before["VmRSS"],
                  "anon_mb": peaks["RssAnon"] - before["RssAnon"], "mapped_mb": peaks["RssFile"] - before["RssFile"],
                  "rows": rows}))
"""


def run(mode: str, path: Path, home: Path) -> dict[str, float]:
    env = dict(os.environ, ADALORA_STUDIO_HOME=str(home), OMP_NUM_THREADS="1", HF_DATASETS_DISABLE_PROGRESS_BARS="1")
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], env=env, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def median(results: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in results)


def measure(rows: int, repeat: int, folder: Path, demo: bool = True) -> dict[str, list[dict[str, float]]]:
    """Each measurement ``repeat`` times, side by side (one round after another), on a ``rows``-row file."""
    path = folder / f"scale-{rows}.csv"
    if not path.exists():
        write_csv(path, rows)
    from adalora_studio.core import paths

    print(f"file: {path} ({path.stat().st_size / 1e6:.1f} MB, {rows:,} rows)", flush=True)
    results: dict[str, list[dict[str, float]]] = {"pyarrow": [], "cold": [], "warm": [], "demo": []}
    for i in range(repeat):
        home = folder / f"home-{rows}-{i}"
        subprocess.run(["rm", "-rf", str(home)], check=True)
        results["pyarrow"].append(run("pyarrow", path, home))
        results["cold"].append(run("studio", path, home))
        results["warm"].append(run("studio", path, home))
        if demo:
            results["demo"].append(run("studio", paths.demo_classification_file(), home))
        subprocess.run(["rm", "-rf", str(home)], check=True)
    return results


NAMES = {"pyarrow": "pyarrow.csv.read_csv (reference)", "cold": "validate data path, empty cache",
         "warm": "validate data path, cache filled", "demo": "validate data path, 1,200-row demo"}


def report(results: dict[str, list[dict[str, float]]]) -> None:
    """Medians, and each repeat's ratio to the pyarrow read of the same round."""
    ref = median(results["pyarrow"], "s")
    print(f"{'measurement':36} {'time s':>7} {'x pyarrow':>9} {'per round':>16} {'peak MB':>8} {'RSS +MB':>8} "
          f"{'heap +MB':>9} {'mapped +MB':>10}")
    for key, label in NAMES.items():
        if not results[key]:
            continue
        t = median(results[key], "s")
        rounds = "/".join(f"{r['s'] / p['s']:.1f}" for r, p in zip(results[key], results["pyarrow"], strict=False))
        print(f"{label:36} {t:7.2f} {t / ref:9.2f} {rounds:>16} {median(results[key], 'peak_mb'):8.0f} "
              f"{median(results[key], 'growth_mb'):8.0f} {median(results[key], 'anon_mb'):9.0f} "
              f"{median(results[key], 'mapped_mb'):10.0f}")


def _timed_command(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Wall seconds and peak resident MB of one whole process (its own accounting, from ``wait4``)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
    return {"s": wall, "peak_mb": usage.ru_maxrss / 1024}


def whole_validate(rows: int, repeat: int, folder: Path) -> None:
    """``adalora-studio validate`` as a user runs it (model, tokenizer, plan and data: the whole process) on the
    demo config and on the same config pointed at the ``rows``-row file, empty cache and filled, alternating."""
    path = folder / f"scale-{rows}.csv"
    if not path.exists():
        write_csv(path, rows)
    exe = str(Path(sys.executable).with_name("adalora-studio"))
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_DATASETS_DISABLE_PROGRESS_BARS="1", HF_HUB_OFFLINE="1")
    demo_cfg, big_cfg = folder / "validate-demo.json", folder / f"validate-{rows}.json"
    subprocess.run([exe, "init-config", "--force", str(demo_cfg)], env=env, check=True, capture_output=True)
    text = demo_cfg.read_text(encoding="utf-8")
    big_cfg.write_text(re.sub(r'"train_file": "[^"]*"', json.dumps({"train_file": str(path)})[1:-1], text),
                       encoding="utf-8")
    filled = folder / "home-validate-filled"
    subprocess.run([exe, "validate", str(big_cfg)], env=dict(env, ADALORA_STUDIO_HOME=str(filled)), check=True,
                   capture_output=True)  # fills the cache once
    results: dict[str, list[dict[str, float]]] = {"demo": [], "cold": [], "warm": []}
    for _ in range(repeat):
        empty = folder / "home-validate-empty"
        subprocess.run(["rm", "-rf", str(empty)], check=True)
        for key, cfg, home in (("demo", demo_cfg, filled), ("cold", big_cfg, empty), ("warm", big_cfg, filled)):
            results[key].append(_timed_command([exe, "validate", str(cfg)], dict(env, ADALORA_STUDIO_HOME=str(home))))
    demo_s, demo_mb = median(results["demo"], "s"), median(results["demo"], "peak_mb")
    print(f"\nwhole `adalora-studio validate` (medians of {repeat}; the data-dependent part is the difference)")
    print(f"{'config':36} {'wall s':>7} {'peak MB':>8} {'- demo s':>9} {'- demo MB':>10}")
    for key, label in (("demo", "the 1,200-row demo"), ("cold", f"{rows:,} rows, empty cache"),
                       ("warm", f"{rows:,} rows, cache filled")):
        t, mb = median(results[key], "s"), median(results[key], "peak_mb")
        print(f"{label:36} {t:7.2f} {mb:8.0f} {t - demo_s:9.2f} {mb - demo_mb:10.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scaling", action="store_true",
                        help="also measure a quarter and a half of --rows: does memory grow with the file?")
    parser.add_argument("--dir", default=str(Path(tempfile.gettempdir()) / "adalora-data-scale"))
    parser.add_argument("--whole", action="store_true",
                        help="also time the whole `adalora-studio validate` command on the demo and on the file")
    args = parser.parse_args()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    if args.whole:
        whole_validate(args.rows, args.repeat, folder)
    report(measure(args.rows, args.repeat, folder))
    if args.scaling:
        sizes = [args.rows // 4, args.rows // 2, args.rows]
        print("\nmemory against the file size (medians; heap = anonymous memory, mapped = Arrow's memory map)")
        print(f"{'rows':>10} {'cold RSS+':>10} {'cold heap+':>11} {'warm RSS+':>10} {'warm heap+':>11} "
              f"{'warm mapped+':>13} {'pyarrow heap+':>14}")
        for rows in sizes:
            res = measure(rows, args.repeat, folder, demo=False)
            print(f"{rows:>10,} {median(res['cold'], 'growth_mb'):10.0f} {median(res['cold'], 'anon_mb'):11.0f} "
                  f"{median(res['warm'], 'growth_mb'):10.0f} {median(res['warm'], 'anon_mb'):11.0f} "
                  f"{median(res['warm'], 'mapped_mb'):13.0f} {median(res['pyarrow'], 'anon_mb'):14.0f}", flush=True)


if __name__ == "__main__":
    main()
