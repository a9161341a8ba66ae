"""The training step's loss and ∂ℓ/∂z3 together, fast: a speed path beside the core's plain
forms (core/losses.py), held equal to them by tests/test_speed_paths.py.

What makes it fast: the exponentials of the fused losses are computed once for ℓ and ∂ℓ/∂z3; the
derivative is written into the step's buffer; the learning rate η is folded in with the
reduction's ÷ N (so the backward pass that follows yields η·∂ℓ/∂θ, and plain SGD subtracts it as it
is); one-hot targets of class labels touch the true class alone; a single logit is computed in
Python floats.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.activations import Activation, Array, _shifted_exp
from ..core.losses import Loss


def value_and_dz3(loss: Loss, g: Activation, z3: Array, y: Array, y_hat: Array, out: Array,
                  one_hot: bool = False, scale: float = 1.0) -> tuple[float, Array]:
    """ℓ and ∂ℓ/∂z3 of one real batch (B, K) together — the training step's pair — with the
    exponentials of the fused losses computed once for both; the same formulas as ``Loss.value``
    and ``Loss.dloss_dz3``, ∂ℓ/∂z3 written into ``out``. ``one_hot`` says each row of y is one 1 and
    zeros (class labels): cross-entropy then touches the true class alone. ``scale`` multiplies
    the derivative written, in the same pass as the reduction's ÷ N (training folds η in)."""
    n = loss.divisor(*y.shape)
    if one_hot and loss.name == "cross_entropy" and g.name == "softmax" and z3.ndim == 2:
        return _labels_value(z3, y, n, out, scale)
    if z3.size == 1 and z3.dtype == np.float64 and (loss.name, g.name) in (("bce", "sigmoid"), ("mse", "identity")):
        return _one_value(loss.name, z3, y, n, out, scale)  # online SGD with one output: Python floats, no array calls
    if loss.name == "mse" and g.name == "identity":  # ŷ = z3: V = 2 (ŷ − y), ℓ = Σ (ŷ − y)² as in ``value``
        d = np.subtract(z3, y, out=out)
        flat = d.reshape(-1)
        total = float(np.dot(flat, flat))
        d *= 2
        _reduce(d, n, scale)
        return total / n, d
    if loss.name == "cross_entropy" and g.name == "softmax":
        e, others, top = _shifted_exp(z3)  # e = exp(z − m), the largest exactly 1; others = Σ of the rest
        # ℓ per row = log Σⱼ exp(zⱼ − y·z) = (m − y·z) + log1p(others): two non-negative parts, no cancellation
        lse_shift = z3.reshape(-1)[top] - np.einsum("ij,ij->i", y, z3)
        total = float((lse_shift + np.log1p(others[:, 0])).sum())
        S = others + 1
        rest = np.subtract(S, e, out=np.empty_like(e))
        rest.reshape(-1)[top] = others[:, 0]  # as softmax_parts: Σ_{j≠i} eⱼ without a subtraction
        d = np.multiply(e, 1 - y, out=out)
        rest *= y
        d -= rest
        d /= S
    elif loss.name == "bce" and g.name == "sigmoid":
        pos = z3 >= 0
        e = np.abs(z3)
        np.negative(e, out=e)
        np.exp(e, out=e)  # exp(−|z|) ≤ 1
        soft = np.log1p(e)  # softplus(±z) = max(±z, 0) + log1p(exp(−|z|)), numpy's logaddexp formula
        total = float(((1 - y) * (np.maximum(z3, 0) + soft) + y * (np.maximum(-z3, 0) + soft)).sum())
        den = e + 1
        d = np.multiply(1 - y, np.where(pos, 1, e) / den, out=out)  # (1 − y)·σ(z) − y·σ(−z)
        d -= y * (np.where(pos, e, 1) / den)
    else:
        d = loss.dloss_dz3(g, z3, y_hat, y, out)
        if scale != 1:
            d *= scale
        return float(loss.value(g, z3, y, y_hat)), d
    _reduce(d, n, scale)
    return total / n, d

def _labels_value(z3: Array, y: Array, n: int, out: Array, scale: float) -> tuple[float, Array]:
    """Softmax + cross-entropy for one-hot rows: with t the true class, ℓ = (m − z_t) + log1p(others)
    and ∂ℓ/∂z3 = e/S except −rest_t/S at t — the general formulas with yⱼ = 0 for j ≠ t."""
    B, K = z3.shape
    e, others, top = _shifted_exp(z3)
    t = y.argmax(axis=1)
    t += np.arange(0, B * K, K)  # flat index of each row's true class
    flat_z = z3.reshape(-1)
    total = float((flat_z[top] - flat_z[t]).sum() + np.log1p(others[:, 0]).sum())
    S = others + 1
    rest_t = np.where(t == top, others[:, 0], S[:, 0] - e.reshape(-1)[t])  # Σ_{j≠t} eⱼ, never cancelling
    d = np.divide(e, S, out=out)
    d.reshape(-1)[t] = -rest_t / S[:, 0]
    _reduce(d, n, scale)
    return total / n, d

def _one_value(name: str, z3: Array, y: Array, n: int, out: Array, scale: float) -> tuple[float, Array]:
    """``value_and_dz3`` of a single logit, in Python floats (the same formulas, scalar)."""
    z, t = float(z3.flat[0]), float(y.flat[0])
    if name == "mse":
        r = z - t
        out.flat[0] = (r * 2 / n if n != 1 else r * 2) * scale
        return r * r / n, out
    e = math.exp(-abs(z))  # σ(z) = 1/(1 + e) or e/(1 + e); softplus(±z) = max(±z, 0) + log1p(e)
    soft = math.log1p(e)
    total = (1 - t) * (max(z, 0.0) + soft) + t * (max(-z, 0.0) + soft)
    den = 1 + e
    s, c = (1 / den, e / den) if z >= 0 else (e / den, 1 / den)
    d = (1 - t) * s - t * c
    out.flat[0] = (d / n if n != 1 else d) * scale
    return total / n, out


def _reduce(d: Array, n: int, scale: float) -> None:
    """d ← scale · d / N in place: the reduction's ÷ N and training's η in one pass (÷ N alone, as is)."""
    if scale != 1:
        d *= scale / n
    elif n != 1:
        d /= n
