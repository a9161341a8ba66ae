"""Gradient-check speed: `twonet check` against a naive central-difference loop and
torch.autograd.gradcheck, on the same 784 → 256 → 10 network and batch of 32, in float64.

    python benchmarks/bench_check.py            # peers timed on a sample of entries, extrapolated
    python benchmarks/bench_check.py --full     # peers timed on every entry (minutes)

Both peers cost the same for every entry (two forward passes of the whole network each), so a
sample of entries times them faithfully; `--full` removes any doubt. PyTorch is optional: the
torch rows are skipped where it is not installed (`pip install torch==2.13.0` for the CPU build).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from twonet_cli.check.numeric import Problem, numeric_grads
from twonet_cli.check.report import random_batch, run_check
from twonet_cli.core.activations import Activation
from twonet_cli.core.losses import Loss
from twonet_cli.core.model import PARAM_NAMES, Net, Params, forward, init_params, loss

N_IN, HIDDEN, K, BATCH = 784, 256, 10, 32


def best_of(repeats: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def naive_loop(net: Net, p: Params, x: Any, y: Any, entries: list[tuple[str, int]], h: float = 1e-6) -> None:
    """CS231n-style: for each entry, perturb a copy, run two full forward passes."""
    theta = dict(p.items())
    for name, flat in entries:
        for sign in (1, -1):
            moved = theta[name].copy()
            moved.reshape(-1)[flat] += sign * h
            loss(net, forward(net, Params(**{**theta, name: moved}), x), y)


def sample_entries(p: Params, count: int, rng: np.random.Generator) -> list[tuple[str, int]]:
    every = [(name, i) for name in PARAM_NAMES for i in range(getattr(p, name).size)]
    if count >= len(every):
        return every
    return [every[i] for i in rng.choice(len(every), count, replace=False)]


def torch_gradcheck(p: Params, x: Any, y: Any, rows: int | None) -> tuple[float, int] | None:
    """torch.autograd.gradcheck (default slow mode) on the same network; ``rows`` of W1 as inputs
    (with b1, W2, b2), or every parameter when ``rows`` is None."""
    try:
        import torch
    except ImportError:
        return None
    t = {k: torch.tensor(v, dtype=torch.float64) for k, v in p.items()}
    X, target = torch.tensor(x), torch.tensor(y.argmax(axis=1))
    head = t["W1"] if rows is None else t["W1"][:rows]
    rest = None if rows is None else t["W1"][rows:]
    inputs = tuple(a.clone().requires_grad_(True) for a in (head, t["b1"], t["W2"], t["b2"]))

    def fn(W1h: Any, b1: Any, W2: Any, b2: Any) -> Any:
        W1 = W1h if rest is None else torch.cat([W1h, rest])
        z3 = torch.tanh(X @ W1.T + b1) @ W2.T + b2
        return torch.nn.functional.cross_entropy(z3, target)

    t0 = time.perf_counter()
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3)
    return time.perf_counter() - t0, sum(a.numel() for a in inputs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="time the peers on every entry")
    parser.add_argument("--sample", type=int, default=3000, help="entries the naive loop is timed on")
    parser.add_argument("--torch-rows", type=int, default=8, help="rows of W1 torch's gradcheck is timed on")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    net = Net(Activation("tanh"), Activation("softmax"), Loss("cross_entropy", "mean"))
    p = init_params(N_IN, HIDDEN, K, rng)
    x, y = random_batch(N_IN, K, "cross_entropy", BATCH, rng)
    total = sum(a.size for _, a in p.items())
    console = Console()
    console.print(f"network {N_IN} → {HIDDEN} → {K}, batch {BATCH}, float64, tanh/softmax/cross-entropy: "
                  f"{total:,} parameters")

    rows: list[tuple[str, int, float, float]] = []  # (method, entries timed, seconds, seconds for all)
    report = run_check(net, p, x, y)
    assert report.passed
    t_check = best_of(3, lambda: run_check(net, p, x, y))
    rows.append(("twonet check (complex step + central differences + Jacobians)", total, t_check, t_check))
    t_cs = best_of(3, lambda: numeric_grads(Problem(net, p, x, y), "complex"))
    rows.append(("  of which: complex step, every entry", total, t_cs, t_cs))

    entries = sample_entries(p, total if args.full else args.sample, rng)
    t_naive = best_of(1, lambda: naive_loop(net, p, x, y, entries))
    rows.append(("naive central-difference loop (numpy, 2 forwards per entry)", len(entries), t_naive,
                 t_naive * total / len(entries)))

    torch_run = torch_gradcheck(p, x, y, None if args.full else args.torch_rows)
    if torch_run is None:
        console.print("[dim]torch not installed: torch.autograd.gradcheck skipped[/dim]")
    else:
        seconds, timed = torch_run
        rows.append(("torch.autograd.gradcheck (float64, default mode)", timed, seconds, seconds * total / timed))

    table = Table("method", "entries timed", "time", "time for all entries", "× twonet check",
                  title="Checking every gradient entry", title_justify="left")
    for method, timed, seconds, all_seconds in rows:
        note = "" if timed == total else " (extrapolated)"
        table.add_row(method, f"{timed:,}", f"{seconds:.3f} s", f"{all_seconds:.2f} s{note}",
                      f"{all_seconds / t_check:.1f}×")
    console.print(table)


if __name__ == "__main__":
    main()
