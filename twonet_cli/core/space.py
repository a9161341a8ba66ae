"""What the hidden layer does to a 2-D input plane (pure numpy): a grid of lines and the data,
carried through Linear₁ (z1 = W1 x + b1) and then f (z2 = f(z1)), each seen in 2-D.

z1 and z2 have m coordinates. With m = 2 they are drawn as they are; otherwise on their first two
principal directions — the centred SVD of the data's points — which for z1 lose nothing: an affine
map sends the plane onto a plane, so those two directions hold all of its variance, and straight
lines stay straight. f then bends that plane inside m dimensions; the share of variance the two
directions keep says how much of the bent sheet a picture can show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .activations import Array
from .model import Net, Params, forward

GRID_LINES = 11  # lines per input axis
LINE_POINTS = 80  # points along each line


@dataclass(frozen=True)
class View2D:
    """A layer's output drawn in 2-D: each grid line (points, 2), the data points (N, 2), the axes'
    names and the share of the points' variance each axis shows (None when they are the units)."""

    lines: list[Array]
    points: Array
    axes: tuple[str, str]
    explained: tuple[float, float] | None
    boundary: float | None = None  # where on the first axis Linear₂'s decision boundary stands


def grid_lines(lo: Array, hi: Array, lines: int = GRID_LINES, points: int = LINE_POINTS) -> list[Array]:
    """Lines of constant x₂ then of constant x₁ across the box [lo, hi] of the input plane, each (points, 2)."""
    u1, u2 = np.linspace(lo[0], hi[0], points), np.linspace(lo[1], hi[1], points)
    across = [np.column_stack([u1, np.full(points, v)]) for v in np.linspace(lo[1], hi[1], lines)]
    up = [np.column_stack([np.full(points, v), u2]) for v in np.linspace(lo[0], hi[0], lines)]
    return across + up


def principal_axes(z: Array) -> tuple[Array, Array, tuple[float, float]]:
    """The centre (m,) of points z (N, m), their first two principal directions (2, m) and the share
    of the total variance each holds. Fewer than two dimensions (m = 1) pad with a zero direction."""
    centre = z.mean(axis=0)
    _, s, vt = np.linalg.svd(z - centre, full_matrices=False)
    basis = np.zeros((2, z.shape[1]))
    basis[:min(2, len(vt))] = vt[:2]
    var = s**2
    total = float(var.sum())
    shares = [float(v) / total if total > 0 else 0.0 for v in var[:2]]
    return centre, basis, (shares[0], shares[1] if len(shares) > 1 else 0.0)


def layer_views(net: Net, p: Params, lines: list[Array], x: Array, classify: bool) -> tuple[View2D, View2D]:
    """The grid ``lines`` and the (standardised) data ``x`` (N, 2) as z1 (on its principal plane) and
    as z2 (along what Linear₂ reads, ``readout_axes``)."""
    z1_lines = [line @ p.W1.T + p.b1 for line in lines]  # z1 = x W1ᵀ + b1
    z1 = x @ p.W1.T + p.b1
    if z1.shape[1] == 2:
        first = View2D(z1_lines, z1, ("z1[1]", "z1[2]"), None)
    else:
        centre, basis, explained = principal_axes(z1)
        first = View2D([(z - centre) @ basis.T for z in z1_lines], (z1 - centre) @ basis.T,
                       ("z1: 1st principal direction", "z1: 2nd principal direction"), explained)
    z2_lines, z2 = [net.f(z) for z in z1_lines], net.f(z1)  # z2 = f(z1)
    basis, names, boundary = readout_axes(net, p, z2, classify)
    shown = z2 @ basis.T
    total = float(((z2 - z2.mean(axis=0)) ** 2).sum())
    spread = ((shown - shown.mean(axis=0)) ** 2).sum(axis=0)
    explained2 = (float(spread[0]) / total, float(spread[1]) / total) if total > 0 else (0.0, 0.0)
    second = View2D([z @ basis.T for z in z2_lines], shown, names, explained2, boundary)
    return first, second


def readout_axes(net: Net, p: Params, z2: Array, classify: bool) -> tuple[Array, tuple[str, str], float | None]:
    """Two orthonormal directions (2, m) of z2-space to look along, their names, and where Linear₂'s
    decision boundary crosses the first (a vertical line there), when it is one.

    Linear₂ reads z2 only through its rows w_k (ŷ = g(W2 z2 + b2)); a classifier with K ≥ 2 outputs
    decides by argmax, which depends only on the differences w_k − w_0. With one direction to read
    (K = 1, or two classes), it is the first axis — the classes separate along it, at the boundary
    z2·w + b = t (t = 0 for σ, 0.5 for identity; two classes: w = w_1 − w_0, b = b_1 − b_0, t = 0) —
    and the second is z2's main spread across it. With more, the first two principal directions
    of the data within the directions Linear₂ reads."""
    W, b = p.W2, p.b2
    if classify and len(b) >= 2:
        W, b = W[1:] - W[0], b[1:] - b[0]
    _, s, vt = np.linalg.svd(W, full_matrices=False)
    rank = max(1, int((s > s[0] * 1e-12).sum())) if s.size and s[0] > 0 else 1
    if rank == 1:
        norm = float(np.linalg.norm(W[0]))
        u = W[0] / norm if norm > 0 else vt[0]
        rest = z2 - np.outer(z2 @ u, u)  # z2 with its component along u removed
        v = principal_axes(rest)[1][0]
        v = v - (v @ u) * u  # orthogonal to u to the last digit
        v = v / n if (n := float(np.linalg.norm(v))) > 0 else v
        threshold = 0.0 if len(p.b2) == 2 else {"sigmoid": 0.0, "identity": 0.5}.get(net.g.name)
        boundary = (threshold - float(b[0])) / norm if classify and threshold is not None and norm > 0 else None
        what = "w₂[1] − w₂[0]" if len(p.b2) == 2 and classify else "w₂"
        return np.stack([u, v]), (f"z2 along Linear₂'s readout {what}", "z2: its main spread across that"), boundary
    q = vt[:rank]  # an orthonormal basis of the directions Linear₂ reads
    _, c, _ = principal_axes(z2 @ q.T)
    return c @ q, ("z2: 1st principal direction Linear₂ reads", "z2: 2nd principal direction Linear₂ reads"), None


def output_grid(net: Net, p: Params, gx: Array, gy: Array, to_input: Callable[[Array], Array]) -> Array:
    """ŷ (rows, cols, K) on a meshgrid (gx, gy) of the input plane, whose points ``to_input`` maps to
    the network's inputs (the run's standardisation)."""
    y_hat = forward(net, p, to_input(np.column_stack([gx.ravel(), gy.ravel()]))).y_hat
    return y_hat.reshape(*gx.shape, y_hat.shape[1])

