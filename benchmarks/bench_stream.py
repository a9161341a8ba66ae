"""Streaming a memory-mapped .npy against the same rows in memory: one epoch each, in one run.

    python benchmarks/bench_stream.py                # a 1 GB file (784 features + a label)
    python benchmarks/bench_stream.py --gb 0.25 --rounds 3

Each round trains one epoch of 784 → 64 → 10 (batch 128, float64) twice, interleaved: from the
.npy memory-mapped (`data.source: file.npy`, read in contiguous chunks, pages released) and from
the same rows held in memory. Then a whole `twonet train` process on the file reports its peak
resident memory, with and without a validation split. Prints the median and range of the rounds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from twonet_cli.data.dataset import Split, from_arrays, from_config
from twonet_cli.data.sizes import load_config
from twonet_cli.train.loop import Training

sys.path.insert(0, str(Path(__file__).parent))
from bench_memory import CLASSES, FEATURES


def epoch_seconds(path: Path, in_memory: bool, val: float) -> float:
    sets = [f"data.source={path}", "model.hidden=64", "model.g=softmax", "loss.name=cross_entropy",
            "train.epochs=1", "train.batch_size=128", f"data.val_fraction={val}", "train.lr=0.01"]
    cfg, _ = load_config("multiclass", sets)
    split = from_config(cfg.data, cfg.shape[0], cfg.shape[2], cfg.loss.name)
    if in_memory:
        table = np.load(path)
        d = from_arrays(table[:, :FEATURES], table[:, FEATURES], "classification", CLASSES)
        split = Split(d, split.train, split.val, split.K, split.loss)
    t = Training(cfg.net(), cfg.params(), split, cfg.train)
    t.evaluate = lambda chunks: (0.0, 0.0)  # type: ignore[method-assign]  # the steps' reading, not the metric
    t0 = time.perf_counter()
    for _ in t.run():
        pass
    return time.perf_counter() - t0


def peak_rss_mb(path: Path, val: float) -> float:
    code = ("import resource, sys; from twonet_cli.__main__ import main; sys.argv = ['twonet', 'train', '-q', "
            f"'-c', 'multiclass', '--set', 'data.source={path}', '--set', 'model.hidden=64', '--set', "
            f"'data.val_fraction={val}', '--set', 'train.epochs=1', '--set', 'train.batch_size=128']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return int(out.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.npy"
        # written by a child, so that this process stays small (a child's peak counts its parent's at fork)
        code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); from bench_memory import write_npy; " \
               f"from pathlib import Path; print(write_npy(Path({str(path)!r}), {args.gb}))"
        rows = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        print(f"{path.stat().st_size / 1e9:.2f} GB, {rows:,} rows of {FEATURES} features")
        for val in (0.0, 0.2):  # first, while this process is small: a child's peak counts its parent's at fork
            print(f"peak resident memory of `twonet train` on the file, val_fraction {val}: "
                  f"{peak_rss_mb(path, val):.0f} MB")
        mapped, memory = [], []
        for _ in range(args.rounds):  # interleaved, so drift in the machine's speed falls on both
            mapped.append(epoch_seconds(path, False, 0.0))
            memory.append(epoch_seconds(path, True, 0.0))
        ratios = [a / b for a, b in zip(mapped, memory, strict=True)]
        print(f"epoch, memory-mapped: median {statistics.median(mapped):.2f} s (range {min(mapped):.2f}–"
              f"{max(mapped):.2f}); in memory: median {statistics.median(memory):.2f} s (range {min(memory):.2f}–"
              f"{max(memory):.2f}); mapped / in memory: median {statistics.median(ratios):.2f}× (range "
              f"{min(ratios):.2f}–{max(ratios):.2f}×)")


if __name__ == "__main__":
    main()
