"""Numerical derivatives of the loss for every parameter entry (pure numpy).

Two references, both computed for *all* entries at once:

- the complex step, ∂ℓ/∂θ ≈ Im ℓ(θ + ih)/h with h = 1e-20: no subtraction, so no cancellation;
  it is exact to rounding for any h this small, and is the primary reference;
- central differences, (ℓ(θ + h) − ℓ(θ − h)) / 2h with h = ε^(1/3)·max(1, |θ|), the step that
  balances truncation O(h²) against rounding O(ε/h) (error ≈ ε^(2/3): 4e-11 in float64).

Speed comes from structure, not from a smaller sample: moving W1[j, k] changes only column j of
z1 (by δ·x[:, k]), hence only z2[:, j], hence z3 by (Δz2[:, j]) ⊗ W2[:, j]. So every perturbed
loss costs O(B·K) instead of a forward pass, and thousands are evaluated in one numpy call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np

from ..core.activations import Array
from ..core.model import PARAM_NAMES, Cache, Net, Params, forward

Method = Literal["complex", "central"]
COMPLEX_H = 1e-20  # any h with h² far below ε works; the complex step has no cancellation
CHUNK = 1 << 20  # elements of the (P, B, K) perturbed-z3 array evaluated per numpy call


def central_step(dtype: Any) -> float:
    """ε^(1/3) for the dtype: the step minimising truncation O(h²) + rounding O(ε/h)."""
    return float(np.finfo(dtype).eps ** (1 / 3))


def complex_dtype(dtype: Any) -> Any:
    """The complex dtype of the same precision (complex128 for float64)."""
    return np.result_type(dtype, np.complex64)


@dataclass(frozen=True)
class Problem:
    """A network, its parameters and a batch: what every numerical derivative is taken of."""

    net: Net
    params: Params
    x: Array  # (B, n)
    y: Array  # (B, K)

    @cached_property
    def cache(self) -> Cache:
        """The forward pass at these parameters, computed once (every reference starts from it)."""
        return forward(self.net, self.params, self.x)

    def loss_of_z3(self, z3: Array) -> Array:
        """ℓ for each of many perturbed z3 (P, B, K): shape (P,)."""
        return self.net.loss.value(self.net.g, z3, self.y)


def _chunked(count: int, per_item: int) -> list[slice]:
    step = max(1, CHUNK // max(per_item, 1))
    return [slice(i, min(i + step, count)) for i in range(0, count, step)]


def _losses_via_z1(pb: Problem, c: Cache, units: Array, dz1: Array) -> Array:
    """ℓ after z1[:, units[p]] += dz1[p] for each perturbation p: (P,) from units (P,), dz1 (P, B)."""
    z1 = c.z1.T[units]  # (P, B)
    dz2 = pb.net.f(z1 + dz1) - c.z2.T[units]  # only column j of z2 moves
    z3 = c.z3 + dz2[:, :, None] * pb.params.W2.T[units][:, None, :]  # z3 += Δz2[:, j] ⊗ W2[:, j]
    return pb.loss_of_z3(z3)


def _losses_via_z3(pb: Problem, c: Cache, outs: Array, dz3: Array) -> Array:
    """ℓ after z3[:, outs[p]] += dz3[p] for each perturbation p."""
    z3 = np.repeat(c.z3[None].astype(dz3.dtype), len(outs), axis=0)
    z3[np.arange(len(outs)), :, outs] += dz3
    return pb.loss_of_z3(z3)


def _moves(pb: Problem, name: str) -> tuple[Callable[[Cache, Array, Array], Array], Array, Array]:
    """For parameter ``name``: (loss function of (cache, index, δ-scaled column), unit index, column).

    Moving θ by δ moves a column of z1 or z3 by δ times the returned column (B,) for each entry.
    """
    p, x, B = pb.params, pb.x, pb.x.shape[0]
    n, m, K = p.shape
    ones = np.ones(B, dtype=x.dtype)
    match name:
        case "W1":  # z1[:, j] += δ·x[:, k]
            j, k = np.divmod(np.arange(m * n), n)
            return lambda c, u, d: _losses_via_z1(pb, c, u, d), j, x.T[k]
        case "b1":  # z1[:, j] += δ
            return lambda c, u, d: _losses_via_z1(pb, c, u, d), np.arange(m), np.tile(ones, (m, 1))
        case "W2":  # z3[:, k] += δ·z2[:, j]
            k, j = np.divmod(np.arange(K * m), m)
            return lambda c, u, d: _losses_via_z3(pb, c, u, d), k, pb.cache.z2.T[j]
        case "b2":  # z3[:, k] += δ
            return lambda c, u, d: _losses_via_z3(pb, c, u, d), np.arange(K), np.tile(ones, (K, 1))
    raise ValueError(name)


def numeric_grad(pb: Problem, name: str, method: Method, h: float | None = None, direct: bool = False,
                 only: Array | None = None) -> Array:
    """∂ℓ/∂θ for the entries of parameter ``name`` (its shape; NaN outside ``only`` flat indices).

    Each entry is one perturbed loss, evaluated through the column it moves. The complex step
    for W1 is factorised unless ``direct`` (see ``_complex_w1``); the two agree to rounding.
    """
    theta = getattr(pb.params, name)
    if method == "complex" and name == "W1" and not direct and only is None:
        return _complex_w1(pb, h or COMPLEX_H)
    losses, units, cols = _moves(pb, name)
    idx = np.arange(theta.size) if only is None else np.asarray(only)
    out = np.full(theta.size, np.nan, dtype=theta.dtype)
    chunks = _chunked(len(idx), pb.x.shape[0] * pb.y.shape[1])
    if method == "complex":
        h = h or COMPLEX_H
        c = Problem(pb.net, pb.params.astype(complex_dtype(theta.dtype)), pb.x, pb.y).cache
        for s in chunks:
            e = idx[s]
            out[e] = losses(c, units[e], 1j * h * cols[e]).imag / h
    else:
        h = h or central_step(theta.dtype)
        steps = (h * np.maximum(1, np.abs(theta))).reshape(-1)
        c = pb.cache
        for s in chunks:
            e = idx[s]
            d = steps[e, None] * cols[e]
            out[e] = (losses(c, units[e], d) - losses(c, units[e], -d)) / (2 * steps[e])
    return out.reshape(theta.shape)


def _complex_w1(pb: Problem, h: float) -> Array:
    """∂ℓ/∂W1 by the complex step, all m·n entries from m·B loss evaluations instead of m·n.

    Moving W1[j, k] by ih moves z1[b, j] by ih·x[b, k], z2[b, j] by ih·x[b, k]·Df[b, j] with
    Df[b, j] = Im f(z1[b, j] + ih)/h, and z3[b] by that times W2[:, j]. The complex step is linear
    in its perturbation (its O(h²) = 1e-40 term is far below rounding), so
        Im ℓ(W1 + ih·e_jk)/h = Σ_b Dℓ[b, j] · Df[b, j] · x[b, k],
    where Dℓ[b, j] = Im ℓ(z3 + ih·e_b W2[:, j]ᵀ)/h moves sample b's logits along W2's column j.
    Both factors come from evaluating f and ℓ at complex arguments, never from a derivative formula.
    """
    c = pb.cache
    B, m, K = c.x.shape[0], c.z1.shape[1], c.z3.shape[1]
    cdt = complex_dtype(c.z3.dtype)
    Df = pb.net.f(c.z1.astype(cdt) + 1j * h).imag / h  # (B, m)
    Dl = np.empty((B, m), dtype=c.z3.dtype)
    rows = max(1, CHUNK // (m * B * K))
    for b0 in range(0, B, rows):
        bs = np.arange(b0, min(b0 + rows, B))
        z3 = np.repeat(c.z3[None, None].astype(cdt), len(bs), axis=0).repeat(m, axis=1)  # (b, m, B, K)
        z3[np.arange(len(bs)), :, bs, :] += 1j * h * pb.params.W2.T  # sample b moves along W2[:, j]
        Dl[bs] = pb.loss_of_z3(z3).imag / h
    return np.einsum("bj,bj,bk->jk", Dl, Df, c.x)


def numeric_grads(pb: Problem, method: Method, h: float | None = None) -> dict[str, Array]:
    """``numeric_grad`` for each of W1, b1, W2, b2."""
    return {name: numeric_grad(pb, name, method, h) for name in PARAM_NAMES}


def central_sample(pb: Problem, budget: int, rng: np.random.Generator) -> dict[str, Array | None]:
    """Flat indices per parameter for central differences within ``budget`` perturbed values.

    Each entry costs B·K values (two loss evaluations of a (B, K) batch); parameters that fit
    are taken whole, the rest (in practice W1 of a large network) as a seeded random sample.
    """
    per_entry = pb.x.shape[0] * pb.y.shape[1]
    out: dict[str, Array | None] = {}
    for name in sorted(PARAM_NAMES, key=lambda k: getattr(pb.params, k).size):
        size = getattr(pb.params, name).size
        room = max(budget // per_entry, 1)
        out[name] = None if size <= room else np.sort(rng.choice(size, room, replace=False))
        budget -= min(size, room) * per_entry
    return out


def kinks(pb: Problem, h: float | None = None) -> dict[str, Array]:
    """Entries whose central-difference step moves some z1 (or z3) across the kink at 0 of f
    (or g) when that is a ReLU or leaky ReLU.

    There the finite difference averages two slopes and is no reference for the derivative.
    Moves are bounded by |Δz1| = h_θ·|x| (W1), h_θ (b1), and |Δz3| ≤ |Δz1|·L_f·|W2| with L_f the
    largest slope of f; |Δz3| = h_θ·|z2| (W2), h_θ (b2).
    """
    p, c = pb.params, pb.cache
    f, g = pb.net.f, pb.net.g
    mask = {name: np.zeros(getattr(p, name).shape, dtype=bool) for name in PARAM_NAMES}
    h = h or central_step(p.W1.dtype)
    step = {name: h * np.maximum(1, np.abs(a)) for name, a in p.items()}
    reach_b1 = np.broadcast_to(step["b1"], c.z1.shape)  # (B, m)
    z1, z3 = np.abs(c.z1), np.abs(c.z3)
    if f.has_kink:
        for b in range(len(pb.x)):  # one sample at a time: memory of one W1, not B of them
            mask["W1"] |= z1[b][:, None] <= step["W1"] * np.abs(pb.x[b])  # |Δz1[b, j]| when W1[j, k] moves
        mask["b1"] |= (z1 <= reach_b1).any(axis=0)
    if g.has_kink:
        # some z3[b, k] is within |Δz1[b, j]|·L_f·|W2[k, j]| of 0  ⟺  |Δz1[b, j]|·L_f ≥ min_k |z3[b, k]| / |W2[k, j]|
        with np.errstate(divide="ignore"):
            q = (z3[:, :, None] / np.abs(p.W2)[None, :, :]).min(axis=1)  # (B, m)
        for b in range(len(pb.x)):
            mask["W1"] |= step["W1"] * np.abs(pb.x[b]) * f.lipschitz >= q[b][:, None]
        mask["b1"] |= (reach_b1 * f.lipschitz >= q).any(axis=0)
        mask["W2"] |= (z3[:, :, None] <= step["W2"][None] * np.abs(c.z2)[:, None, :]).any(axis=0)
        mask["b2"] |= (z3 <= step["b2"]).any(axis=0)
    return mask
