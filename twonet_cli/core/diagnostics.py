"""What training does to the network, in numbers — the exercise's lessons made visible (pure numpy):

- gradient norms ‖∂ℓ/∂W1‖, ‖∂ℓ/∂W2‖ (Frobenius, of the configured loss over the rows given) and
  their ratio: how much gradient reaches the first layer;
- dead units (ReLU, leaky ReLU): hidden units with z1 ≤ 0 on every row — their gradient is 0 (or
  the leak) everywhere, so they no longer learn;
- saturated units (σ, tanh): hidden units with f′(z1) < SATURATED on more than half of the rows;
- the update-to-weight ratio ‖Δθ‖/‖θ‖ of a step, per layer (W1 with b1, W2 with b2).

Rows may come in chunks: the gradients are summed and divided once, as the reduction says.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .activations import Array
from .losses import Loss
from .model import Net, Params, backward, forward

SATURATED = 0.01  # f′(z1) below this: the unit passes on less than 1% of the gradient it receives


@dataclass(frozen=True)
class Diagnostics:
    """Gradient norms, dead or saturated units over some rows, and (optionally) a step's update ratio."""

    rows: int
    grad_W1: float
    grad_b1: float
    grad_W2: float
    grad_b2: float
    dead: float | None  # share of hidden units dead (ReLU-like f), else None
    saturated: float | None  # share of hidden units saturated (σ, tanh), else None
    update_1: float | None = None  # ‖Δ(W1, b1)‖ / ‖(W1, b1)‖ of a step
    update_2: float | None = None

    @property
    def grad_ratio(self) -> float:
        """‖∂ℓ/∂W1‖ / ‖∂ℓ/∂W2‖: below ~1e-2 the first layer barely learns (vanishing gradients)."""
        return self.grad_W1 / self.grad_W2 if self.grad_W2 > 0 else math.nan

    def hints(self, f: str, lr: float, scheduled: bool = False) -> list[str]:
        """What the numbers say, in plain words, with what to try (``scheduled``: the learning rate
        decays over the run, so small last steps are by design)."""
        out = []
        ratio = self.grad_ratio
        if self.saturated is not None and self.saturated >= 0.5:
            vanish = f"W1 receives {ratio:.0e} of W2's gradient and " if ratio < 1e-2 else ""
            out.append(f"{vanish}{self.saturated:.0%} of {f} units are saturated (f′(z1) < {SATURATED} on most rows): "
                       "vanishing gradients — try f = relu, a smaller init (model.init.std) or standardised inputs")
        elif ratio < 1e-3:
            out.append(f"W1 receives {ratio:.0e} of W2's gradient: the first layer barely learns")
        if self.dead is not None and self.dead >= 0.2:
            out.append(f"{self.dead:.0%} of ReLU units are dead (z1 ≤ 0 on every row): they no longer learn — "
                       "try a smaller lr, f = leaky_relu, or another init")
        updates = [u for u in (self.update_1, self.update_2) if u is not None and math.isfinite(u)]
        if updates and max(updates) > 5e-2:
            out.append(f"updates are {max(updates):.0e} of the weights (about 1e-3 is typical): lr may be too high "
                       f"(train.lr is {lr:g})")
        elif updates and max(updates) < 1e-6 and not scheduled:  # a decayed schedule ends with small steps
            out.append(f"updates are {max(updates):.0e} of the weights: lr may be too low (train.lr is {lr:g})")
        return out


def measure(net: Net, p: Params, chunks: Iterable[tuple[Array, Array]],
             update_ratios: tuple[float, float] | None = None) -> Diagnostics:
    """Diagnostics of parameters ``p`` over the rows of ``chunks`` ((x, y) pairs), with a step's
    update ratios per layer if given (``update_ratio``)."""
    summed = Net(net.f, net.g, Loss(net.loss.name, "sum"))
    grads: list[Array] | None = None
    m = p.b1.shape[0]
    alive = np.zeros(m, dtype=bool)
    flat = np.zeros(m, dtype=np.int64)
    rows = 0
    for x, y in chunks:
        c = forward(summed, p, x)
        chunk = [a for _, a in backward(summed, p, c, y).grads.items()]  # fresh arrays, ours to sum into
        if grads is None:
            grads = chunk
        else:
            for total, a in zip(grads, chunk, strict=True):
                total += a
        alive |= (c.z1 > 0).any(axis=0)
        if net.f.saturates:
            flat += (net.f.derivative(c.z1, c.z2) < SATURATED).sum(axis=0)
        rows += len(x)
    n = net.loss.mean_divisor(rows, int(p.b2.shape[0])) if net.loss.reduction == "mean" and rows else 1
    norms = [float(np.linalg.norm(d)) / n for d in grads] if grads is not None else [0.0] * 4
    dead = float(np.mean(~alive)) if net.f.can_die and rows else None
    saturated = float(np.mean(flat > rows / 2)) if net.f.saturates and rows else None
    u1, u2 = update_ratios if update_ratios is not None else (None, None)
    return Diagnostics(rows, norms[0], norms[1], norms[2], norms[3], dead, saturated, u1, u2)


def update_ratio(delta: Array, theta: Array) -> float:
    """‖Δθ‖ / ‖θ‖ of one layer (W with b, as one flat vector of each)."""
    bottom = float(np.linalg.norm(theta))
    return float(np.linalg.norm(delta)) / bottom if bottom > 0 else math.nan
