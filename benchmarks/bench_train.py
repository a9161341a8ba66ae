"""Training speed: twonet against PyTorch eager, scikit-learn's MLP (solver="sgd") and a plain
hand-written numpy loop — the same network, data, batch size and dtype, in one run.

    python benchmarks/bench_train.py                 # tiny, mid and large networks
    python benchmarks/bench_train.py --only tiny     # one of them

Reports steps/s, samples/s, achieved GFLOP/s (6·B·(n·m + m·K) per step, the multiply-adds of
forward and backward) and ratios, plus the bound set by numpy's own matrix multiplies on the
same shapes. Peers that are not installed are skipped (torch: `pip install torch==2.13.0`;
scikit-learn: `pip install scikit-learn`).
"""

from __future__ import annotations

import argparse
import gc
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from twonet_cli.config.schema import TrainConfig
from twonet_cli.core.activations import Activation
from twonet_cli.core.losses import Loss
from twonet_cli.core.model import Net, init_params
from twonet_cli.data.dataset import Split, from_arrays
from twonet_cli.train.loop import Training


@dataclass(frozen=True)
class Case:
    name: str
    n: int
    m: int
    K: int
    batch: int
    rows: int  # training rows; steps per epoch = rows / batch
    epochs: int
    task: str  # regression (relu, identity, mse) or classification (relu, softmax, cross-entropy)

    def flops(self) -> float:
        return 6.0 * self.batch * (self.n * self.m + self.m * self.K)


CASES = {
    "tiny": Case("tiny 2→20→1 ReLU/MSE, batch 1 (online)", 2, 20, 1, 1, 2000, 3, "regression"),
    "tiny-bce": Case("tiny 2→20→1 tanh/σ/BCE, batch 1 (online)", 2, 20, 1, 1, 2000, 3, "binary"),
    "mid": Case("mid 784→256→10, batch 128", 784, 256, 10, 128, 128 * 60, 5, "classification"),
    "large": Case("large 1024→4096→1024, batch 512", 1024, 4096, 1024, 512, 512 * 8, 2, "classification"),
}
LR = 0.01
STEPS = "twonet, SGD steps alone"


def network(c: Case) -> tuple[Net, str, int]:
    """The case's network, its data task and classes: ReLU with softmax + cross-entropy, identity +
    MSE, or (binary) tanh with σ + BCE."""
    if c.task == "binary":
        return Net(Activation("tanh"), Activation("sigmoid"), Loss("bce", "mean")), "classification", 2
    classify = c.task == "classification"
    net = Net(Activation("relu"), Activation("softmax" if classify else "identity"),
              Loss("cross_entropy" if classify else "mse", "mean"))
    return net, "classification" if classify else "regression", c.K if classify else 0


def make_data(c: Case, rng: np.random.Generator) -> tuple[Any, Any, Any]:
    """x (N, n), the raw target column (labels or values), and targets (N, K) for the loss."""
    x = rng.normal(size=(c.rows, c.n))
    if c.task == "binary":
        labels = (x[:, 0] * x[:, 1] > 0).astype(np.float64)  # xor-like
        return x, labels, labels[:, None]
    if c.task == "classification":
        labels = rng.integers(0, c.K, c.rows)
        return x, labels, np.eye(c.K)[labels]
    y = rng.normal(size=(c.rows, c.K))
    return x, y[:, 0], y


def best_of(repeats: int, fn: Callable[[], Any]) -> tuple[float, int]:
    """(best seconds, steps) of ``repeats`` runs. ``fn()`` prepares a run untimed (as the peers
    convert their data before their loops) and returns the timed part, which returns its steps."""
    best, steps = np.inf, 0
    for _ in range(repeats):
        timed = fn()
        t0 = time.perf_counter()
        steps = timed()
        best = min(best, time.perf_counter() - t0)
    return best, steps


def untimed_setup(run: Callable[[], int] | None) -> Callable[[], Callable[[], int]] | None:
    """A peer with nothing to prepare per run (its data was converted once, before timing)."""
    if run is None:
        return None
    timed: Callable[[], int] = run
    return lambda: timed


def twonet_training(c: Case, x: Any, raw: Any, dtype: Any) -> Callable[[], Training]:
    """A fresh Training of the case each call, on all rows (no validation split), in ``dtype``."""
    net, task, classes = network(c)
    d = from_arrays(x, raw, task, classes)
    params = init_params(c.n, c.m, c.K, np.random.default_rng(0))
    cfg = TrainConfig(epochs=c.epochs, batch_size=c.batch, lr=LR, dtype=np.dtype(dtype).name)
    return lambda: Training(net, params, Split(d, np.arange(c.rows), np.arange(0), c.K, net.loss.name), cfg)


def twonet_run(c: Case, x: Any, raw: Any, dtype: Any) -> Callable[[], Callable[[], int]]:
    """The product as users run it: Training.run over an in-memory dataset (fetch, step, records)."""
    training = twonet_training(c, x, raw, dtype)

    def prepare() -> Callable[[], int]:
        t = training()  # takes the rows, in dtype
        t.evaluate = lambda rows: (0.0, 0.0)  # type: ignore[method-assign]  # time the steps, not the metric

        def run() -> int:
            for _ in t.run():
                pass
            return int(t.history[-1].steps)
        return run
    return prepare


def twonet_steps(c: Case, x: Any, raw: Any, dtype: Any) -> Callable[[], Callable[[], int]]:
    """The step itself: twonet's SGD.step over the same shuffled batches (Training's own, gathered
    per step), without the epochs' records, metrics and diagnostics."""
    training = twonet_training(c, x, raw, dtype)

    def prepare() -> Callable[[], int]:
        t = training()

        def run() -> int:
            steps = 0
            for _ in range(c.epochs):
                for xb, yb in t.batches.epoch():
                    t.sgd.step(xb, yb, LR)
                    steps += 1
            return steps
        return run
    return prepare


def numpy_loop(c: Case, x: Any, y: Any, dtype: Any) -> Callable[[], int]:
    """What a user would write by hand: the textbook loop, allocating as it goes."""
    rng0 = np.random.default_rng(0)
    b1 = 1 / np.sqrt(c.n)
    b2 = 1 / np.sqrt(c.m)
    X, Y = x.astype(dtype), y.astype(dtype)

    def run() -> int:
        W1 = rng0.uniform(-b1, b1, (c.m, c.n)).astype(dtype)
        c1 = np.zeros(c.m, dtype)
        W2 = rng0.uniform(-b2, b2, (c.K, c.m)).astype(dtype)
        c2 = np.zeros(c.K, dtype)
        rng = np.random.default_rng(0)
        steps = 0
        for _ in range(c.epochs):
            order = rng.permutation(c.rows)
            for s in range(0, c.rows, c.batch):
                idx = order[s:s + c.batch]
                xb, yb = X[idx], Y[idx]
                z1 = xb @ W1.T + c1
                z2 = np.tanh(z1) if c.task == "binary" else np.maximum(z1, 0)
                z3 = z2 @ W2.T + c2
                if c.task == "binary":  # σ + BCE: ∂ℓ/∂z3 = (σ(z3) − y) / B
                    dz3 = (1 / (1 + np.exp(-z3)) - yb) / yb.size
                elif c.task == "classification":
                    e = np.exp(z3 - z3.max(axis=1, keepdims=True))
                    dz3 = (e / e.sum(axis=1, keepdims=True) - yb) / len(xb)
                else:
                    dz3 = 2 * (z3 - yb) / yb.size
                dW2, db2 = dz3.T @ z2, dz3.sum(0)
                dz1 = (dz3 @ W2) * ((1 - z2 * z2) if c.task == "binary" else (z1 > 0))
                dW1, db1 = dz1.T @ xb, dz1.sum(0)
                W1 -= LR * dW1
                c1 -= LR * db1
                W2 -= LR * dW2
                c2 -= LR * db2
                steps += 1
        return steps
    return run


def torch_loop(c: Case, x: Any, y: Any, dtype: Any, presliced: bool = False) -> Callable[[], int] | None:
    """The loop a PyTorch user writes: nn.Sequential, the loss module, optim.SGD, and per step
    zero_grad(set_to_none=True), forward, backward, step; the data already tensors. Either a
    shuffled gather X[idx] per step (as a DataLoader with shuffle=True does), or ``presliced``:
    batches cut once before timing (no gather in the loop)."""
    try:
        import torch
    except ImportError:
        return None
    tdt = torch.float64 if np.dtype(dtype) == np.float64 else torch.float32
    X = torch.tensor(x, dtype=tdt)
    Y = torch.tensor(y.argmax(axis=1)) if c.task == "classification" else torch.tensor(y, dtype=tdt)
    loss_fn = {"classification": torch.nn.CrossEntropyLoss(), "binary": torch.nn.BCELoss()}.get(
        c.task, torch.nn.MSELoss())
    order0 = torch.randperm(c.rows, generator=torch.Generator().manual_seed(0))
    sliced = [(X[order0[s:s + c.batch]].contiguous(), Y[order0[s:s + c.batch]].contiguous())
              for s in range(0, c.rows, c.batch)] if presliced else []

    def run() -> int:
        torch.manual_seed(0)
        layers = [torch.nn.Linear(c.n, c.m), torch.nn.Tanh() if c.task == "binary" else torch.nn.ReLU(),
                  torch.nn.Linear(c.m, c.K), *([torch.nn.Sigmoid()] if c.task == "binary" else [])]
        model = torch.nn.Sequential(*layers).to(tdt)
        opt = torch.optim.SGD(model.parameters(), lr=LR)
        g = torch.Generator().manual_seed(0)
        steps = 0
        for _ in range(c.epochs):
            if presliced:
                batches = sliced
            else:
                order = torch.randperm(c.rows, generator=g)
                batches = ((X[idx], Y[idx]) for idx in (order[s:s + c.batch] for s in range(0, c.rows, c.batch)))
            for xb, yb in batches:
                opt.zero_grad(set_to_none=True)
                loss_fn(model(xb), yb).backward()
                opt.step()
                steps += 1
        return steps
    return run


def sklearn_loop(c: Case, x: Any, raw: Any, dtype: Any) -> Callable[[], int] | None:
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier, MLPRegressor
    except ImportError:
        return None
    kind = MLPClassifier if c.task in ("classification", "binary") else MLPRegressor
    X = x.astype(dtype)
    target = raw if c.task in ("classification", "binary") else raw.astype(dtype)

    def run() -> int:
        model = kind(hidden_layer_sizes=(c.m,), activation="tanh" if c.task == "binary" else "relu", solver="sgd",
                     batch_size=c.batch,
                     learning_rate_init=LR, momentum=0.0, alpha=0.0, max_iter=c.epochs, shuffle=True,
                     tol=0.0, n_iter_no_change=10**9, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, target)
        return c.epochs * -(-c.rows // c.batch)
    return run


def matmul_bound(c: Case, dtype: Any, repeats: int = 5) -> float:
    """Seconds per step spent in numpy's matrix multiplies alone, on one step's shapes."""
    rng = np.random.default_rng(0)
    B, n, m, K = c.batch, c.n, c.m, c.K
    a = {k: rng.normal(size=s).astype(dtype) for k, s in
         {"x": (B, n), "W1": (m, n), "z2": (B, m), "W2": (K, m), "dz3": (B, K), "dz2": (B, m)}.items()}
    out = {k: np.empty(s, dtype) for k, s in
           {"z1": (B, m), "z3": (B, K), "dW2": (K, m), "dz2": (B, m), "dW1": (m, n)}.items()}

    def step() -> int:
        np.matmul(a["x"], a["W1"].T, out=out["z1"])
        np.matmul(a["z2"], a["W2"].T, out=out["z3"])
        np.matmul(a["dz3"].T, a["z2"], out=out["dW2"])
        np.matmul(a["dz3"], a["W2"], out=out["dz2"])
        np.matmul(a["dz2"].T, a["x"], out=out["dW1"])
        return 1

    count = max(1, int(0.2 / max(best_of(1, lambda: step)[0], 1e-9)))
    seconds, _ = best_of(repeats, lambda: lambda: sum(step() for _ in range(count)))
    return seconds / count


def bench(c: Case, dtype: Any, console: Console, repeats: int) -> dict[str, float]:
    rng = np.random.default_rng(1)
    x, raw, y = make_data(c, rng)
    peers: list[tuple[str, Callable[[], Callable[[], int]] | None]] = [
        ("twonet", twonet_run(c, x, raw, dtype)),
        (STEPS, twonet_steps(c, x, raw, dtype)),
        ("numpy loop (hand-written)", untimed_setup(numpy_loop(c, x, y, dtype))),
        ("PyTorch eager (nn.Linear + optim.SGD)", untimed_setup(torch_loop(c, x, y, dtype))),
        ("PyTorch eager, pre-sliced batches", untimed_setup(torch_loop(c, x, y, dtype, presliced=True))),
        ("scikit-learn MLP (solver='sgd')", untimed_setup(sklearn_loop(c, x, raw, dtype))),
    ]
    present = [(name, run) for name, run in peers if run is not None]
    for name, run in peers:
        if run is None:
            console.print(f"[dim]{name}: not installed, skipped[/dim]")
    for _, run in present:
        run()()  # warm up
    # every library is loaded now: the garbage collector's later passes skip their objects (as the
    # twonet command freezes its own after start-up), so no method pays for traversing another's
    gc.freeze()
    # round-robin: each repeat times every method once, so drift in the machine's speed
    # (this is a shared host) falls on all of them alike; every round is kept, and the median
    # (with the range) is what the ratios use
    all_rates: dict[str, list[float]] = {name: [] for name, _ in present}
    bounds: list[float] = []
    for _ in range(repeats):
        bounds.append(matmul_bound(c, dtype, repeats=1))
        for name, run in present:
            seconds, steps = best_of(1, run)
            all_rates[name].append(steps / seconds)
    bound = float(np.median(bounds))
    best = {name: float(np.median(r)) for name, r in all_rates.items()}
    rates: dict[str, float] = dict(best)
    table = Table("method", "steps/s, median (range)", "samples/s", "GFLOP/s", "× PyTorch", "share of matmul bound",
                  title=f"{c.name}, {np.dtype(dtype).name}, {repeats} rounds", title_justify="left")
    rows = list(best.items())
    torch_rate = next((r for n, r in rows if n.startswith("PyTorch")), None)
    for name, rate in rows:
        spread_ = f"{_rate(rate)} ({_rate(min(all_rates[name]))}–{_rate(max(all_rates[name]))})"
        table.add_row(name, spread_, f"{rate * c.batch:,.0f}", f"{rate * c.flops() / 1e9:.2f}",
                      f"{rate / torch_rate:.2f}×" if torch_rate else "—", f"{rate * bound:.0%}")
    table.add_row("[dim]matmul bound (numpy's matmuls alone)[/dim]", _rate(1 / bound), f"{c.batch / bound:,.0f}",
                  f"{c.flops() / bound / 1e9:.2f}", "", "100%")
    console.print(table)
    rates["bound"] = 1 / bound
    return rates


def _rate(steps_per_second: float) -> str:
    return f"{steps_per_second:,.0f}" if steps_per_second >= 100 else f"{steps_per_second:.3g}"


def targets_table(results: dict[tuple[str, str], dict[str, float]]) -> Table:
    """The issue's targets against what this run measured."""
    t = Table("target", "measured", title="Targets", title_justify="left")
    torch, numpy_, sk = "PyTorch eager (nn.Linear + optim.SGD)", "numpy loop (hand-written)", \
        "scikit-learn MLP (solver='sgd')"

    def ratio(key: tuple[str, str], peer: str) -> str:
        r = results.get(key, {})
        return f"{r['twonet'] / r[peer]:.2f}×" if peer in r and "twonet" in r else "—"

    presliced = "PyTorch eager, pre-sliced batches"

    def share(key: tuple[str, str], method: str = "twonet") -> str:
        r = results.get(key, {})
        return f"{r[method] / r['bound']:.0%}" if r and method in r else "—"

    rows = [
        ("tiny ReLU/MSE: ≥ 12× PyTorch", ratio(("tiny", "float64"), torch)),
        ("tiny ReLU/MSE: ≥ 12× PyTorch, pre-sliced", ratio(("tiny", "float64"), presliced)),
        ("tiny tanh/σ/BCE: ≥ 8× PyTorch", ratio(("tiny-bce", "float64"), torch)),
        ("tiny tanh/σ/BCE: ≥ 8× PyTorch, pre-sliced", ratio(("tiny-bce", "float64"), presliced)),
        ("tiny: ≥ 1× the plain numpy loop", ratio(("tiny", "float64"), numpy_)),
        ("mid: ≥ 1.3× PyTorch", ratio(("mid", "float64"), torch)),
        ("mid: ≥ 1.3× PyTorch, pre-sliced", ratio(("mid", "float64"), presliced)),
        ("mid: ≥ 85% of the matmul bound", share(("mid", "float64"))),
        ("mid: ≥ 85% of the matmul bound, steps alone", share(("mid", "float64"), STEPS)),
        ("large: ≥ 92% of the matmul bound", share(("large", "float64"))),
        ("large: ≥ 92% of the matmul bound, steps alone", share(("large", "float64"), STEPS)),
    ]
    rows += [(f"{k} {d}: ahead of scikit-learn", ratio((k, d), sk)) for k, d in results]
    for k in ("mid", "large"):
        if (k, "float32") in results and (k, "float64") in results:
            speedup = results[(k, "float32")]["twonet"] / results[(k, "float64")]["twonet"]
            rows.append((f"{k}: float32 ≈ 2× float64", f"{speedup:.2f}×"))
    for target, measured in rows:
        if measured != "—":
            t.add_row(target, measured)
    return t


def loop_overhead(c: Case, dtype: Any, rounds: int, val_fraction: float) -> tuple[list[float], list[float]]:
    """(bare step µs, whole-run µs per step) over ``rounds``: the step alone on one batch, against
    Training.run over the case's rows — batches, losses, progress records, the epoch's metric
    (validation, or the running one) — exactly as `twonet train` runs it."""
    net, task, classes = network(c)
    x, raw, _ = make_data(c, np.random.default_rng(1))
    d = from_arrays(x, raw, task, classes)
    params = init_params(c.n, c.m, c.K, np.random.default_rng(0))
    cfg = TrainConfig(epochs=c.epochs, batch_size=c.batch, lr=LR, dtype=np.dtype(dtype).name)
    n_val = int(val_fraction * c.rows)
    split = Split(d, np.arange(n_val, c.rows), np.arange(n_val), c.K, net.loss.name)
    bare, whole = [], []
    for _ in range(rounds):
        t = Training(net, params, split, cfg)
        xb, yb = (a.copy() for a in next(iter(t.batches.epoch())))
        count = max(20, int(2e5 // max(1, c.batch * (c.n * c.m + c.m * c.K) // 1000)))
        t0 = time.perf_counter()
        for _ in range(count):
            t.sgd.step(xb, yb, LR)
        bare.append((time.perf_counter() - t0) / count * 1e6)
        t = Training(net, params, split, cfg)
        t0 = time.perf_counter()
        for _ in t.run():
            pass
        whole.append((time.perf_counter() - t0) / t.history[-1].steps * 1e6)
    return bare, whole


def spread(values: list[float]) -> str:
    """median (min–max) of a list of rounds."""
    return f"{np.median(values):,.1f} ({min(values):,.1f}–{max(values):,.1f})"


def loop_table(keys: list[str], rounds: int) -> Table:
    t = Table("case", "validation", "bare step µs", "whole run µs/step", "whole ÷ bare (median)",
              title="Loop overhead: Training.run against the bare SGD step, float64, median (range) of rounds",
              title_justify="left")
    digits = Case("digits-like 64→64→10, batch 32", 64, 64, 10, 32, 1797, 40, "classification")
    cases = [("digits", digits)] + [(k, CASES[k]) for k in keys]
    for name, c in cases:
        for val in (0.0, 0.2):
            bare, whole = loop_overhead(c, np.float64, rounds, val)
            ratio = [w / b for w, b in zip(whole, bare, strict=True)]
            t.add_row(c.name if val == 0 else "", f"{val:.0%}", spread(bare), spread(whole), f"{np.median(ratio):.2f}×")
        _ = name
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=list(CASES), action="append", help="run only these cases")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds per method (median and range shown)")
    parser.add_argument("--loop", action="store_true", help="only the loop-overhead table (whole run vs bare step)")
    args = parser.parse_args()
    console = Console()
    if args.loop:
        console.print(loop_table([k for k in (args.only or list(CASES)) if k not in ("large", "tiny-bce")],
                                 max(3, args.repeats)))
        return
    results = {}
    for key in args.only or list(CASES):
        dtypes = [np.float64] if key.startswith("tiny") else [np.float64, np.float32]
        for dtype in dtypes:
            results[(key, np.dtype(dtype).name)] = bench(CASES[key], dtype, console, args.repeats)
    console.print(targets_table(results))


if __name__ == "__main__":
    main()
