"""Losses with PyTorch's reductions: value, ∂ℓ/∂ŷ, and the fused ∂ℓ/∂z3 where one exists.

Shapes: ŷ, y and z3 are (B, K). ``sum`` adds over all elements; ``mean`` divides that sum by
B·K for ``mse`` and ``bce`` and by B for ``cross_entropy`` (already summed over classes), exactly
as ``torch.nn.MSELoss``, ``BCELoss`` and ``CrossEntropyLoss``. This module is the one home of
that rule: every divisor, and every loss reported "per element" (or per sample), comes from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .activations import Activation, Array, _shifted_exp, logsumexp, sigmoid_pair, softmax_parts, softplus

LossName = Literal["mse", "bce", "cross_entropy"]
Reduction = Literal["sum", "mean"]

BCE_EPS = 1e-12  # PyTorch's BCELoss backward divides by max(ŷ(1 − ŷ), 1e-12)
CE_TINY = float(np.finfo(np.float64).tiny)  # ŷ that underflowed to 0 is taken as this in −y/ŷ
FUSED = {("bce", "sigmoid"), ("cross_entropy", "softmax")}  # (loss, g) with a stable closed-form ∂ℓ/∂z3


@dataclass(frozen=True)
class Loss:
    """ℓ(ŷ, y) reduced over the batch."""

    name: LossName
    reduction: Reduction = "mean"

    @property
    def unit(self) -> str:
        """What ``mean`` averages over: 'sample' for cross-entropy (summed over classes), else 'element'."""
        return "sample" if self.name == "cross_entropy" else "element"

    def mean_divisor(self, B: int, K: int) -> int:
        """The N of the ``mean`` reduction for a (B, K) batch: B for cross-entropy, B·K otherwise."""
        return B if self.name == "cross_entropy" else B * K

    def divisor(self, B: int, K: int) -> int:
        """N with ℓ = (Σ elementwise losses) / N for a (B, K) batch: 1 for sum, the mean's N for mean."""
        if self.reduction == "sum":
            return 1
        return B if self.name == "cross_entropy" else B * K

    def per_unit(self, value: float, B: int, K: int) -> float:
        """ℓ of a (B, K) batch as its mean per element (or per sample), whatever the reduction:
        the scale on which training reports losses, so batch sizes and reductions compare."""
        return value * self.divisor(B, K) / self.mean_divisor(B, K)

    def fused(self, g: Activation) -> bool:
        """True when ℓ∘g has the stable closed form ∂ℓ/∂z3 = (ŷ − y)/N (σ+BCE, softmax+CE)."""
        return (self.name, g.name) in FUSED

    def value(self, g: Activation, z3: Array, y: Array, y_hat: Array | None = None) -> Any:
        """The reduced loss ℓ of logits z3 (..., B, K) and targets y (B, K): a scalar, or one per
        leading index. ŷ = g(z3) is used if given; the fused losses need only z3."""
        n = self.divisor(*y.shape)
        match self.name:
            case "mse":  # Σ (ŷ − y)²
                d = (g(z3) if y_hat is None else y_hat) - y
                if d.ndim == 2:  # one batch: a dot product, the fastest sum of squares
                    d = d.reshape(-1)
                    total = np.dot(d, d)
                else:
                    total = (d * d).sum(axis=(-2, -1))
            case "bce":  # −[y log σ(z) + (1−y) log σ(−z)] = (1 − y)·softplus(z) + y·softplus(−z); g = σ
                # a sum of non-negative terms: no cancellation, whatever the batch (not Σ softplus(z) − Σ y·z)
                total = ((1 - y) * softplus(z3) + y * softplus(-z3)).sum(axis=(-2, -1))
            case "cross_entropy":  # −Σᵢ yᵢ log softmax(z)ᵢ = log Σⱼ exp(zⱼ − y·z) for Σᵢ yᵢ = 1
                # for a class index t, log Σⱼ exp(zⱼ − z_t): log1p of the other terms, never lse(z) − z_t
                total = logsumexp(z3 - (y * z3).sum(axis=-1, keepdims=True)).sum(axis=-1)
            case _:
                raise ValueError(self.name)
        return total / n

    def value_and_dz3(self, g: Activation, z3: Array, y: Array, y_hat: Array, out: Array,
                      one_hot: bool = False, scale: float = 1.0) -> tuple[float, Array]:
        """ℓ and ∂ℓ/∂z3 of one real batch (B, K) together — the training step's pair — with the
        exponentials of the fused losses computed once for both; the same formulas as ``value``
        and ``dloss_dz3``, ∂ℓ/∂z3 written into ``out``. ``one_hot`` says each row of y is one 1 and
        zeros (class labels): cross-entropy then touches the true class alone. ``scale`` multiplies
        the derivative written, in the same pass as the reduction's ÷ N (training folds η in)."""
        n = self.divisor(*y.shape)
        if one_hot and self.name == "cross_entropy" and g.name == "softmax" and z3.ndim == 2:
            return self._labels_value(z3, y, n, out, scale)
        if z3.size == 1 and z3.dtype == np.float64 and (self.name, g.name) in (("bce", "sigmoid"), ("mse", "identity")):
            return self._one_value(z3, y, n, out, scale)  # online SGD with one output: Python floats, no array calls
        if self.name == "mse" and g.name == "identity":  # ŷ = z3: V = 2 (ŷ − y), ℓ = Σ (ŷ − y)² as in ``value``
            d = np.subtract(z3, y, out=out)
            flat = d.reshape(-1)
            total = float(np.dot(flat, flat))
            d *= 2
            _reduce(d, n, scale)
            return total / n, d
        if self.name == "cross_entropy" and g.name == "softmax":
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
        elif self.name == "bce" and g.name == "sigmoid":
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
            d = self.dloss_dz3(g, z3, y_hat, y, out)
            if scale != 1:
                d *= scale
            return float(self.value(g, z3, y, y_hat)), d
        _reduce(d, n, scale)
        return total / n, d

    def _labels_value(self, z3: Array, y: Array, n: int, out: Array, scale: float) -> tuple[float, Array]:
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

    def _one_value(self, z3: Array, y: Array, n: int, out: Array, scale: float) -> tuple[float, Array]:
        """``value_and_dz3`` of a single logit, in Python floats (the same formulas, scalar)."""
        z, t = float(z3.flat[0]), float(y.flat[0])
        if self.name == "mse":
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

    def terms_of_yhat(self, y_hat: Array, y: Array, complement: Array | None = None) -> Array:
        """The elementwise terms of ℓ as a function of ŷ alone, by the textbook formula (for checking
        ∂ℓ/∂ŷ numerically): ℓ = Σ terms / N. ``complement`` is 1 − ŷ (BCE), if known exactly."""
        match self.name:
            case "mse":
                return (y_hat - y) ** 2
            case "bce":
                q = 1 - y_hat if complement is None else complement
                return -(y * np.log(y_hat) + (1 - y) * np.log(q))
        return -(y * np.log(np.where(y != 0, y_hat, 1)))  # −Σ yᵢ log ŷᵢ, skipping the classes with yᵢ = 0

    def of_yhat(self, y_hat: Array, y: Array) -> Any:
        """ℓ as a function of ŷ alone, by the textbook formula."""
        return self.terms_of_yhat(y_hat, y).sum(axis=(-2, -1)) / self.divisor(*y.shape)

    def dloss_dyhat(self, y_hat: Array, y: Array, out: Array | None = None,
                    complement: Array | None = None) -> Array:
        """∂ℓ/∂ŷ, one row per sample (B, K); finite even where ŷ is 0 or 1 (see each case).

        ``complement`` is 1 − ŷ computed exactly (σ(−z3) for BCE); without it, 1 − ŷ is formed."""
        n = self.divisor(*y.shape)
        match self.name:
            case "mse":  # V = 2 (ŷ − y)
                d = np.subtract(y_hat, y, out=out)
                d *= 2
                if n != 1:
                    d /= n
                return d
            case "bce":  # Vᵢ = (1 − yᵢ)/(1 − ŷᵢ) − yᵢ/ŷᵢ = (ŷᵢ − yᵢ) / (ŷᵢ (1 − ŷᵢ)), clamped like PyTorch
                q = 1 - y_hat if complement is None else complement
                denom = y_hat * q
                # ŷ − y as (1 − y)·ŷ − y·(1 − ŷ): exact for hard labels, where ŷ − y would cancel
                return np.divide(((1 - y) * y_hat - y * q) / np.where(denom.real > BCE_EPS, denom, BCE_EPS), n,
                                 out=out)
            case "cross_entropy":  # Vᵢ = −yᵢ / ŷᵢ (0 where yᵢ = 0), ŷᵢ clamped at the smallest normal number
                safe = np.where(y_hat.real > CE_TINY, y_hat, CE_TINY)
                return np.divide(np.where(y != 0, -y / safe, 0), n, out=out)
        raise ValueError(self.name)

    def dloss_dz3(self, g: Activation, z3: Array, y_hat: Array, y: Array, out: Array | None = None) -> Array:
        """∂ℓ/∂z3 (B, K): the fused (ŷ − y)/N where it exists, else ∂ℓ/∂ŷ · ∂ŷ/∂z3; into ``out`` if given.

        The fused forms are computed from the logits, never as ŷ − y (which cancels where ŷ
        saturates): σ(z) − y = (1 − y)·σ(z) − y·σ(−z), and softmax(z)ᵢ − yᵢ = (eᵢ(1 − yᵢ) − yᵢ·restᵢ)/S
        with restᵢ = Σ_{j≠i} eⱼ (see softmax_parts). Both are exact for hard labels."""
        if (self.name, g.name) in FUSED:
            if self.name == "bce":
                s, t = sigmoid_pair(z3)
                d = np.multiply(1 - y, s, out=out)
                d -= y * t
            else:
                e, S, rest = softmax_parts(z3)
                d = np.multiply(e, 1 - y, out=out)
                d -= y * rest
                d /= S
            n = self.divisor(*y.shape)
            if n != 1:
                d /= n
            return d
        if g.name == "identity":  # ∂ŷ/∂z3 = I
            return self.dloss_dyhat(y_hat, y, out)
        return g.vjp(z3, y_hat, self.dloss_dyhat(y_hat, y), out)


def one_hot(idx: Array, K: int) -> Array:
    """Class indices (B,) as one-hot rows (B, K): the cross-entropy targets of those classes."""
    out = np.zeros((len(idx), K))
    out[np.arange(len(idx)), idx] = 1.0
    return out


def _reduce(d: Array, n: int, scale: float) -> None:
    """d ← scale · d / N in place: the reduction's ÷ N and training's η in one pass (÷ N alone, as is)."""
    if scale != 1:
        d *= scale / n
    elif n != 1:
        d /= n
