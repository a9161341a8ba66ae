"""Peak memory while training from a .npy file larger than memory should allow (default 2 GB).

    python benchmarks/bench_memory.py              # writes a 2 GB .npy to a temporary directory
    python benchmarks/bench_memory.py --gb 0.5     # a smaller file

The file holds rows of 784 features and a class label (10 classes). `twonet train` reads it
memory-mapped, batch by batch, releasing pages it has read; this script runs it in a child
process and reports that process's peak resident memory (ru_maxrss) against the file's size.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FEATURES, CLASSES = 784, 10


def write_npy(path: Path, gigabytes: float) -> int:
    """A (rows, 785) float64 .npy of random features and labels, written in chunks."""
    rows = int(gigabytes * 1e9 / ((FEATURES + 1) * 8))
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(rows, FEATURES + 1))
    rng = np.random.default_rng(0)
    for start in range(0, rows, 20_000):
        stop = min(start + 20_000, rows)
        out[start:stop, :FEATURES] = rng.normal(size=(stop - start, FEATURES))
        out[start:stop, FEATURES] = rng.integers(0, CLASSES, stop - start)
    out.flush()
    del out
    return rows


def run_measured(cmd: list[str]) -> tuple[int, float, str]:
    """(exit code, peak resident MB, stderr) of ``cmd`` alone, from wait4's rusage for its pid."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024, err  # ru_maxrss is in kB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gb", type=float, default=2.0, help="size of the .npy file in GB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.npy"
        # written by a child process: a parent that had touched 2 GB would pass that high-water
        # mark on to every child it forks, and the measurement would be of the parent
        subprocess.run([sys.executable, __file__, "--write", str(path), "--gb", str(args.gb)], check=True)
        rows = np.load(path, mmap_mode="r").shape[0]
        size = path.stat().st_size
        cmd = [sys.executable, "-m", "twonet_cli", "train", "-c", "multiclass", "-q",
               "--set", f"data.source={path}", "--set", f"model.in_features={FEATURES}",
               "--set", "model.hidden=256", "--set", f"model.out_features={CLASSES}",
               "--set", "train.epochs=1", "--set", "train.batch_size=128", "--set", "train.lr=0.01",
               "--set", "data.val_fraction=0.05", "--set", "data.standardize=true"]
        t0 = time.perf_counter()
        code, peak_mb, err = run_measured(cmd)
        seconds = time.perf_counter() - t0
    if code != 0:
        sys.exit(f"twonet train failed:\n{err}")
    print(f"file: {size / 1e9:.2f} GB, {rows:,} rows of {FEATURES} features + label")
    print(f"twonet train (1 epoch, batch 128, standardised, 5% validation): {seconds:.1f} s")
    print(f"peak resident memory of the training process: {peak_mb:,.0f} MB "
          f"({peak_mb * 1e6 / size:.0%} of the file; target < 600 MB)")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--write":
        write_npy(Path(sys.argv[2]), float(sys.argv[4]))
    else:
        main()
