"""The exercise's lesson in numbers (pure numpy): how much gradient the hidden activation f lets
through to the first layer, and whether the first layer learns.

The chain rule names the quantity: ∂ℓ/∂z1 = ∂ℓ/∂z2 · diag f′(z1). So

- ``kept`` = ‖∂ℓ/∂z1‖ / ‖∂ℓ/∂z2‖ (Frobenius over the rows measured) is the share of the gradient
  arriving at z2 that survives f — at most f's largest slope (1 for tanh, ¼ for σ, c for c·ReLU);
  a saturated σ or tanh (f′ ≈ 0) keeps almost none of it: vanishing gradients. It depends on f′
  alone, not on the input's scale or W2's size (which ‖∂ℓ/∂W1‖ / ‖∂ℓ/∂W2‖ mixes in);
- ``flat`` is the share of the entries f′(z1) (rows × units) below 1% of f's largest slope: where
  the gradient stops (σ, tanh saturated; ReLU inactive, z1 ≤ 0);
- ``moved_1``, ``moved_2`` = ‖W − W at the start‖ / ‖W at the start‖ per layer: whether W1 actually
  learns, beside W2;
- ``dead``: hidden units with z1 ≤ 0 on every row (ReLU-like f) — their gradient is 0 everywhere;
- the gradient norms ‖∂ℓ/∂W1‖, ‖∂ℓ/∂W2‖ and the update-to-weight ratio ‖Δθ‖/‖θ‖ of a step.

Rows may come in chunks: sums of squares are accumulated and divided once, as the reduction says.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .activations import Array
from .losses import Loss
from .model import Net, Params, backward, forward

FLAT = 0.01  # f′(z1) below this share of f's largest slope: the entry passes (almost) no gradient
VANISHING = 0.05  # f keeps less than this share of ∂ℓ/∂z2: the hint names vanishing gradients


@dataclass(frozen=True)
class Diagnostics:
    """The lesson's numbers over some rows, at some parameters (see the module's docstring)."""

    rows: int
    grad_W1: float  # ‖∂ℓ/∂W1‖
    grad_b1: float
    grad_W2: float  # ‖∂ℓ/∂W2‖
    grad_b2: float
    dz2: float  # ‖∂ℓ/∂z2‖
    dz1: float  # ‖∂ℓ/∂z1‖
    flat: float  # share of f′(z1) entries below FLAT × f's largest slope
    dead: float | None  # share of hidden units with z1 ≤ 0 on every row (ReLU-like f), else None
    moved_1: float | None = None  # ‖W1 − W1 at the start‖ / ‖W1 at the start‖
    moved_2: float | None = None
    update_1: float | None = None  # ‖Δ(W1, b1)‖ / ‖(W1, b1)‖ of a step
    update_2: float | None = None

    @property
    def kept(self) -> float:
        """‖∂ℓ/∂z1‖ / ‖∂ℓ/∂z2‖: the share of the gradient at z2 that f lets through to z1."""
        return self.dz1 / self.dz2 if self.dz2 > 0 else math.nan

    def hints(self, f: str, lr: float, scheduled: bool = False, can_die: bool = False) -> list[str]:
        """What the numbers say, in plain words, each with what was measured and what to try
        (``scheduled``: the learning rate decays over the run, so small last steps are by design)."""
        out = []
        if self.kept < VANISHING:
            moved = (f"; W1 moved {self.moved_1:.1%} of its size, W2 {self.moved_2:.1%}"
                     if self.moved_1 is not None and self.moved_2 is not None else "")
            cure = ("its units are inactive (z1 ≤ 0) — try f = leaky_relu, a smaller lr or another init" if can_die
                    else "try f = relu, a smaller init (model.init.std) or standardised inputs")
            out.append(f"f = {f} passes {self.kept:.2%} of ∂ℓ/∂z2 back to z1 (‖∂ℓ/∂z1‖ / ‖∂ℓ/∂z2‖), with f′(z1) ≈ 0 "
                       f"on {self.flat:.0%} of entries{moved}: vanishing gradients — {cure}")
        if self.dead is not None and self.dead >= 0.2:
            out.append(f"{self.dead:.0%} of ReLU units are dead (z1 ≤ 0 on every row measured): they no longer learn — "
                       "try a smaller lr, f = leaky_relu, or another init")
        updates = [u for u in (self.update_1, self.update_2) if u is not None and math.isfinite(u)]
        if updates and max(updates) > 5e-2:
            out.append(f"the last step changed the weights by {max(updates):.0e} of their size (about 1e-3 is "
                       f"typical): lr may be too high (train.lr is {lr:g})")
        elif updates and max(updates) < 1e-6 and not scheduled:  # a decayed schedule ends with small steps
            out.append(f"the last step changed the weights by {max(updates):.0e} of their size: lr may be too low "
                       f"(train.lr is {lr:g})")
        return out


def measure(net: Net, p: Params, chunks: Iterable[tuple[Array, Array]], start: Params | None = None,
            update_ratios: tuple[float, float] | None = None) -> Diagnostics:
    """Diagnostics of parameters ``p`` over the rows of ``chunks`` ((x, y) pairs); how far W1 and W2
    moved from ``start`` (if given); a step's update ratios per layer (if given, ``update_ratio``)."""
    summed = Net(net.f, net.g, Loss(net.loss.name, "sum"))
    grads: list[Array] | None = None
    m = p.b1.shape[0]
    alive = np.zeros(m, dtype=bool)
    squares = np.zeros(2)  # Σ (∂ℓ/∂z2)², Σ (∂ℓ/∂z1)² of the summed loss
    flat, rows = 0, 0
    top = net.f.lipschitz
    for x, y in chunks:
        c = forward(summed, p, x)
        b = backward(summed, p, c, y)
        chunk = [a for _, a in b.grads.items()]  # fresh arrays, ours to sum into
        if grads is None:
            grads = chunk
        else:
            for total, a in zip(grads, chunk, strict=True):
                total += a
        squares += (np.vdot(b.dloss_dz2, b.dloss_dz2), np.vdot(b.dloss_dz1, b.dloss_dz1))
        alive |= (c.z1 > 0).any(axis=0)
        flat += int(np.count_nonzero(np.abs(net.f.derivative(c.z1, c.z2)) < FLAT * top))
        rows += len(x)
    n = net.loss.mean_divisor(rows, int(p.b2.shape[0])) if net.loss.reduction == "mean" and rows else 1
    norms = [float(np.linalg.norm(d)) / n for d in grads] if grads is not None else [0.0] * 4
    dz2, dz1 = (math.sqrt(float(s)) / n for s in squares)
    dead = float(np.mean(~alive)) if net.f.can_die and rows else None
    moved = (None, None) if start is None else (moved_share(p.W1, start.W1), moved_share(p.W2, start.W2))
    u1, u2 = update_ratios if update_ratios is not None else (None, None)
    return Diagnostics(rows, norms[0], norms[1], norms[2], norms[3], dz2, dz1, flat / (rows * m) if rows else math.nan,
                       dead, moved[0], moved[1], u1, u2)


def moved_share(W: Array, W0: Array) -> float:
    """‖W − W0‖ / ‖W0‖: how far a weight matrix moved from its start, relative to its size there."""
    size = float(np.linalg.norm(W0))
    return float(np.linalg.norm(W - W0)) / size if size > 0 else math.nan


def update_ratio(delta: Array, theta: Array) -> float:
    """‖Δθ‖ / ‖θ‖ of one layer (W with b, as one flat vector of each)."""
    bottom = float(np.linalg.norm(theta))
    return float(np.linalg.norm(delta)) / bottom if bottom > 0 else math.nan
