"""Whole runs, as processes, on a real dataset: `twonet train --out DIR` against the scikit-learn
and PyTorch scripts a user writes for the same training (benchmarks/peers/), from process start
to saved weights, interleaved over rounds.

    python benchmarks/bench_whole.py                  # digits (1,797 × 64, 10 classes), 40 epochs
    python benchmarks/bench_whole.py --rounds 7 --epochs 100

Every run: 64 → 64 → 10, ReLU, softmax + cross-entropy, batch 32, lr 0.05, no momentum,
standardised features, all rows for training (`val_fraction: 0`). The data is scikit-learn's
digits when scikit-learn is installed, else a seeded stand-in of the same shape. Prints each
command's median and range of wall time, and the ratios of medians.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def write_data(folder: Path) -> Path:
    if importlib.util.find_spec("sklearn"):
        from sklearn.datasets import load_digits

        x, y = load_digits(return_X_y=True)
    else:
        rng = np.random.default_rng(0)
        y = rng.integers(0, 10, 1797)
        x = np.clip(rng.normal(loc=y[:, None] % 7, scale=3, size=(1797, 64)), 0, 16).round()
    path = folder / "digits.csv"
    header = ",".join([f"p{i}" for i in range(x.shape[1])] + ["digit"])
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header=header, comments="", fmt="%g")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    hidden, batch, lr = 64, 32, 0.05
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = write_data(folder)
        (folder / "digits.yaml").write_text(
            f"model: {{hidden: {hidden}, f: relu, g: softmax}}\nloss: {{name: cross_entropy}}\n"
            "data: {source: digits.csv, standardize: true, val_fraction: 0}\n"
            f"train: {{epochs: {args.epochs}, batch_size: {batch}, lr: {lr}}}\n")
        common = [str(data), str(hidden), str(args.epochs), str(batch), str(lr)]
        commands = {"twonet train --out": lambda i: [sys.executable, "-m", "twonet_cli", "train", "-q", "-c",
                                                     str(folder / "digits.yaml"), "--out", str(folder / f"run{i}")]}
        if importlib.util.find_spec("sklearn"):
            commands["scikit-learn script"] = lambda i: [sys.executable, str(HERE / "peers" / "sklearn_train.py"),
                                                         *common, str(folder / f"sk{i}.npz")]
        if importlib.util.find_spec("torch"):
            commands["PyTorch script"] = lambda i: [sys.executable, str(HERE / "peers" / "torch_train.py"),
                                                    *common, str(folder / f"pt{i}.pt")]
        times: dict[str, list[float]] = {name: [] for name in commands}
        for i in range(args.rounds + 1):  # the first round warms caches and is not counted
            for name, cmd in commands.items():
                t0 = time.perf_counter()
                subprocess.run(cmd(i), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
                if i:
                    times[name].append(time.perf_counter() - t0)
        base = statistics.median(times["twonet train --out"])
        print(f"whole runs, {args.rounds} rounds, {args.epochs} epochs of digits: median (range); peer ÷ twonet")
        for name, ts in times.items():
            med = statistics.median(ts)
            print(f"  {name:<22} {med:6.2f} s ({min(ts):.2f}–{max(ts):.2f})  {med / base:.2f}×")


if __name__ == "__main__":
    main()
