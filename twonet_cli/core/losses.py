"""Losses with PyTorch's reductions: one class per loss, its value beside its derivatives ∂ℓ/∂ŷ and,
where g makes one exist (σ + BCE, softmax + cross-entropy), the fused ∂ℓ/∂z3.

Shapes: ŷ, y and z3 are (B, K). ``sum`` adds over all elements; ``mean`` divides that sum by
B·K for ``mse`` and ``bce`` and by B for ``cross_entropy`` (already summed over classes), exactly
as ``torch.nn.MSELoss``, ``BCELoss`` and ``CrossEntropyLoss``. ``Loss`` is the one home of that
rule: every divisor, and every loss reported "per element" (or per sample), comes from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np

from .activations import Activation, Array, logsumexp, sigmoid_pair, softmax_parts, softplus

LossName = Literal["mse", "bce", "cross_entropy"]
Reduction = Literal["sum", "mean"]

BCE_EPS = 1e-12  # PyTorch's BCELoss backward divides by max(ŷ(1 − ŷ), 1e-12)
CE_TINY = float(np.finfo(np.float64).tiny)  # ŷ that underflowed to 0 is taken as this in −y/ŷ


# One class per loss, each unreduced: ``value`` is Σ of the elementwise (or per-sample) losses, the
# derivatives are of that sum; ``Loss`` divides by the reduction's N.


class MSE:
    """ℓ = Σ (ŷ − y)²;  ∂ℓ/∂ŷ = V = 2 (ŷ − y)."""

    fused_with = None

    @staticmethod
    def value(g: Activation, z3: Array, y: Array, y_hat: Array | None) -> Any:
        """Σ (ŷ − y)²."""
        d = (g(z3) if y_hat is None else y_hat) - y
        if d.ndim == 2:  # one batch: a dot product, the fastest sum of squares
            d = d.reshape(-1)
            return np.dot(d, d)
        return (d * d).sum(axis=(-2, -1))

    @staticmethod
    def dloss_dyhat(y_hat: Array, y: Array, out: Array | None, complement: Array | None) -> Array:
        """2 (ŷ − y)."""
        d = np.subtract(y_hat, y, out=out)
        d *= 2
        return d

    @staticmethod
    def terms_of_yhat(y_hat: Array, y: Array, complement: Array | None) -> Array:
        """(ŷ − y)²."""
        return (y_hat - y) ** 2


class BCE:
    """ℓ = −Σ [y log ŷ + (1 − y) log(1 − ŷ)], with ŷ = σ(z3) computed from the logits as
    Σ (1 − y)·softplus(z3) + y·softplus(−z3) (a sum of non-negative terms: no cancellation);
    ∂ℓ/∂ŷ = (1 − y)/(1 − ŷ) − y/ŷ;  fused ∂ℓ/∂z3 = σ(z3) − y = (1 − y)·σ(z3) − y·σ(−z3)."""

    fused_with = "sigmoid"

    @staticmethod
    def value(g: Activation, z3: Array, y: Array, y_hat: Array | None) -> Any:
        """Σ (1 − y)·softplus(z3) + y·softplus(−z3)."""
        return ((1 - y) * softplus(z3) + y * softplus(-z3)).sum(axis=(-2, -1))

    @staticmethod
    def dloss_dyhat(y_hat: Array, y: Array, out: Array | None, complement: Array | None) -> Array:
        """(ŷ − y) / (ŷ (1 − ŷ)), clamped like PyTorch; ŷ − y as (1 − y)·ŷ − y·(1 − ŷ): exact for hard labels."""
        q = 1 - y_hat if complement is None else complement
        denom = y_hat * q
        return np.divide((1 - y) * y_hat - y * q, np.where(denom.real > BCE_EPS, denom, BCE_EPS), out=out)

    @staticmethod
    def fused_parts(z3: Array, y: Array) -> tuple[Array, Array, Any]:
        """(1 − y)·σ(z3), y·σ(−z3) and 1: ∂ℓ/∂z3 is their difference, each computed without cancelling."""
        s, t = sigmoid_pair(z3)
        return (1 - y) * s, y * t, 1

    @staticmethod
    def terms_of_yhat(y_hat: Array, y: Array, complement: Array | None) -> Array:
        """−[y log ŷ + (1 − y) log(1 − ŷ)]."""
        q = 1 - y_hat if complement is None else complement
        return -(y * np.log(y_hat) + (1 - y) * np.log(q))


class CrossEntropy:
    """ℓ = −Σᵢ yᵢ log ŷᵢ per sample, with ŷ = softmax(z3) computed as log Σⱼ exp(zⱼ − y·z) (Σ y = 1);
    ∂ℓ/∂ŷᵢ = −yᵢ/ŷᵢ;  fused ∂ℓ/∂z3 = softmax(z3) − y = (eᵢ(1 − yᵢ) − yᵢ·restᵢ)/S."""

    fused_with = "softmax"

    @staticmethod
    def value(g: Activation, z3: Array, y: Array, y_hat: Array | None) -> Any:
        """Σ per sample of log Σⱼ exp(zⱼ − y·z)."""
        # for a class index t, log Σⱼ exp(zⱼ − z_t): log1p of the other terms, never lse(z) − z_t
        return logsumexp(z3 - (y * z3).sum(axis=-1, keepdims=True)).sum(axis=-1)

    @staticmethod
    def dloss_dyhat(y_hat: Array, y: Array, out: Array | None, complement: Array | None) -> Array:
        """−yᵢ/ŷᵢ (0 where yᵢ = 0), ŷᵢ clamped at the smallest normal number."""
        safe = np.where(y_hat.real > CE_TINY, y_hat, CE_TINY)
        return np.divide(np.where(y != 0, -y, 0), safe, out=out)

    @staticmethod
    def fused_parts(z3: Array, y: Array) -> tuple[Array, Array, Any]:
        """eᵢ(1 − yᵢ), yᵢ·restᵢ and S, with restᵢ = Σ_{j≠i} eⱼ (softmax_parts): ∂ℓ/∂z3 is their
        difference over S."""
        e, S, rest = softmax_parts(z3)
        return e * (1 - y), y * rest, S

    @staticmethod
    def terms_of_yhat(y_hat: Array, y: Array, complement: Array | None) -> Array:
        """−yᵢ log ŷᵢ."""
        return -(y * np.log(np.where(y != 0, y_hat, 1)))  # −Σ yᵢ log ŷᵢ, skipping the classes with yᵢ = 0


LOSSES: dict[str, Any] = {"mse": MSE, "bce": BCE, "cross_entropy": CrossEntropy}


@dataclass(frozen=True)
class Loss:
    """ℓ(ŷ, y) reduced over the batch."""

    name: LossName
    reduction: Reduction = "mean"

    @cached_property
    def function(self) -> Any:
        """The class holding this loss's value and derivatives."""
        return LOSSES[self.name]

    @property
    def unit(self) -> str:
        """What ``mean`` averages over: 'sample' for cross-entropy (summed over classes), else 'element'."""
        return "sample" if self.name == "cross_entropy" else "element"

    def mean_divisor(self, B: int, K: int) -> int:
        """The N of the ``mean`` reduction for a (B, K) batch: B for cross-entropy, B·K otherwise."""
        return B if self.name == "cross_entropy" else B * K

    def divisor(self, B: int, K: int) -> int:
        """N with ℓ = (Σ elementwise losses) / N for a (B, K) batch: 1 for sum, the mean's N for mean."""
        return 1 if self.reduction == "sum" else self.mean_divisor(B, K)

    def per_unit(self, value: float, B: int, K: int) -> float:
        """ℓ of a (B, K) batch as its mean per element (or per sample), whatever the reduction:
        the scale on which training reports losses, so batch sizes and reductions compare."""
        return value * self.divisor(B, K) / self.mean_divisor(B, K)

    def fused(self, g: Activation) -> bool:
        """True when ℓ∘g has the stable closed form ∂ℓ/∂z3 = (ŷ − y)/N (σ+BCE, softmax+CE)."""
        return bool(self.function.fused_with == g.name)

    def value(self, g: Activation, z3: Array, y: Array, y_hat: Array | None = None) -> Any:
        """The reduced loss ℓ of logits z3 (..., B, K) and targets y (B, K): a scalar, or one per
        leading index. ŷ = g(z3) is used if given; BCE and cross-entropy need only z3."""
        return self.function.value(g, z3, y, y_hat) / self.divisor(*y.shape)

    def dloss_dyhat(self, y_hat: Array, y: Array, out: Array | None = None,
                    complement: Array | None = None) -> Array:
        """∂ℓ/∂ŷ = V, one row per sample (B, K); finite even where ŷ is 0 or 1 (PyTorch's clamps).

        ``complement`` is 1 − ŷ computed exactly (σ(−z3) for BCE); without it, 1 − ŷ is formed."""
        d = self.function.dloss_dyhat(y_hat, y, out, complement)
        n = self.divisor(*y.shape)
        if n != 1:
            d /= n
        return d

    def fused_parts(self, g: Activation, z3: Array, y: Array) -> tuple[Array, Array, Any]:
        """For a fused pair, (plus, minus, S): two non-negative parts and a positive divisor with
        N·∂ℓ/∂z3 = (plus − minus)/S (the gradient check bounds its rounding by (plus + minus)/S)."""
        assert self.fused(g), "σ with BCE, or softmax with cross-entropy"
        return self.function.fused_parts(z3, y)

    def dloss_dz3(self, g: Activation, z3: Array, y_hat: Array, y: Array, out: Array | None = None) -> Array:
        """∂ℓ/∂z3 (B, K): the fused (ŷ − y)/N where it exists, from the logits (``fused_parts``,
        exact for hard labels where ŷ saturates), else ∂ℓ/∂ŷ · ∂ŷ/∂z3; into ``out`` if given."""
        if not self.fused(g):
            V = self.dloss_dyhat(y_hat, y, None if g.name != "identity" else out)
            return V if g.name == "identity" else g.vjp(z3, y_hat, V, out)  # ∂ŷ/∂z3 = I for the identity
        plus, minus, S = self.fused_parts(g, z3, y)
        d = np.subtract(plus, minus, out=out)
        if isinstance(S, np.ndarray):
            d /= S
        n = self.divisor(*y.shape)
        if n != 1:
            d /= n
        return d

    def terms_of_yhat(self, y_hat: Array, y: Array, complement: Array | None = None) -> Array:
        """The elementwise terms of ℓ as a function of ŷ alone, by the textbook formula (for checking
        ∂ℓ/∂ŷ numerically): ℓ = Σ terms / N. ``complement`` is 1 − ŷ (BCE), if known exactly."""
        return self.function.terms_of_yhat(y_hat, y, complement)

    def of_yhat(self, y_hat: Array, y: Array) -> Any:
        """ℓ as a function of ŷ alone, by the textbook formula."""
        return self.terms_of_yhat(y_hat, y).sum(axis=(-2, -1)) / self.divisor(*y.shape)


def one_hot(idx: Array, K: int) -> Array:
    """Class indices (B,) as one-hot rows (B, K): the cross-entropy targets of those classes."""
    out = np.zeros((len(idx), K))
    out[np.arange(len(idx)), idx] = 1.0
    return out
