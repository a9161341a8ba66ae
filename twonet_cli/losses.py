"""Losses with PyTorch's reductions: value, ∂ℓ/∂ŷ, and the fused ∂ℓ/∂z3 where one exists.

Shapes: ŷ, y and z3 are (B, K). ``sum`` adds over all elements; ``mean`` divides that sum by
B·K for ``mse`` and ``bce`` and by B for ``cross_entropy`` (already summed over classes), exactly
as ``torch.nn.MSELoss``, ``BCELoss`` and ``CrossEntropyLoss``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .activations import Activation, Array, logsumexp, softplus

LossName = Literal["mse", "bce", "cross_entropy"]
Reduction = Literal["sum", "mean"]

BCE_EPS = 1e-12  # PyTorch's BCELoss backward divides by max(ŷ(1 − ŷ), 1e-12)


@dataclass(frozen=True)
class Loss:
    """ℓ(ŷ, y) reduced over the batch."""

    name: LossName
    reduction: Reduction = "mean"

    def divisor(self, y: Array) -> int:
        """N with ℓ = (Σ elementwise losses) / N: 1 for sum, B·K or B for mean."""
        if self.reduction == "sum":
            return 1
        return y.shape[0] if self.name == "cross_entropy" else y.size

    def fused(self, g: Activation) -> bool:
        """True when ℓ∘g has the stable closed form ∂ℓ/∂z3 = (ŷ − y)/N (σ+BCE, softmax+CE)."""
        return (self.name, g.name) in (("bce", "sigmoid"), ("cross_entropy", "softmax"))

    def value(self, g: Activation, z3: Array, y: Array, y_hat: Array | None = None) -> Any:
        """The reduced loss ℓ of logits z3 (..., B, K) and targets y (B, K): a scalar, or one per
        leading index. ŷ = g(z3) is used if given; the fused losses need only z3."""
        n = self.divisor(y)
        match self.name:
            case "mse":  # Σ (ŷ − y)²
                y_hat = g(z3) if y_hat is None else y_hat
                total = ((y_hat - y) ** 2).sum(axis=(-2, -1))
            case "bce":  # −[y log σ(z) + (1−y) log(1−σ(z))] = softplus(z) − y z; g = σ (the config ensures it)
                total = (softplus(z3) - y * z3).sum(axis=(-2, -1))
            case "cross_entropy":  # −Σᵢ yᵢ log softmax(z)ᵢ = logsumexp(z) − y·z for Σᵢ yᵢ = 1
                total = (logsumexp(z3) - (y * z3).sum(axis=-1)).sum(axis=-1)
            case _:
                raise ValueError(self.name)
        return total / n

    def of_yhat(self, y_hat: Array, y: Array) -> Any:
        """ℓ as a function of ŷ alone, by the textbook formula (for checking ∂ℓ/∂ŷ numerically)."""
        match self.name:
            case "mse":
                total = ((y_hat - y) ** 2).sum(axis=(-2, -1))
            case "bce":
                total = -(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)).sum(axis=(-2, -1))
            case _:  # −Σ yᵢ log ŷᵢ, skipping the classes with yᵢ = 0
                total = -(y * np.log(np.where(y != 0, y_hat, 1))).sum(axis=(-2, -1))
        return total / self.divisor(y)

    def dloss_dyhat(self, y_hat: Array, y: Array) -> Array:
        """∂ℓ/∂ŷ, one row per sample (B, K); finite even where ŷ is 0 or 1 (see each case)."""
        n = self.divisor(y)
        match self.name:
            case "mse":  # V = 2 (ŷ − y)
                return 2 * (y_hat - y) / n
            case "bce":  # Vᵢ = ((1 − yᵢ)/(1 − ŷᵢ) − yᵢ/ŷᵢ) = (ŷᵢ − yᵢ) / (ŷᵢ (1 − ŷᵢ)), clamped like PyTorch
                denom = y_hat * (1 - y_hat)
                return (y_hat - y) / np.where(denom.real > BCE_EPS, denom, BCE_EPS) / n
            case "cross_entropy":  # Vᵢ = −yᵢ / ŷᵢ (0 where yᵢ = 0)
                safe = np.where(y_hat.real > 0, y_hat, 1)
                return np.where(y != 0, -y / safe, 0) / n
        raise ValueError(self.name)

    def dloss_dz3(self, g: Activation, z3: Array, y_hat: Array, y: Array) -> Array:
        """∂ℓ/∂z3 (B, K): the fused (ŷ − y)/N where it exists, else ∂ℓ/∂ŷ · ∂ŷ/∂z3."""
        if self.fused(g):
            return (y_hat - y) / self.divisor(y)
        return g.vjp(z3, y_hat, self.dloss_dyhat(y_hat, y))

    def grad_into(self, g: Activation, z3: Array, y: Array, y_hat: Array, dz3: Array, scratch: Array) -> float:
        """Training's fast path: ŷ = g(z3) into ``y_hat``, ∂ℓ/∂z3 into ``dz3``; returns ℓ.

        The same formulas as ``value`` and ``dloss_dz3``, written into preallocated buffers.
        """
        n = self.divisor(y)
        if self.fused(g):
            if g.name == "softmax":  # ℓ = Σ (logsumexp(z) − y·z) / N
                shift = z3.max(axis=1, keepdims=True)
                np.subtract(z3, shift, out=y_hat)
                np.exp(y_hat, out=y_hat)
                total = y_hat.sum(axis=1, keepdims=True)
                y_hat /= total
                value = float((shift + np.log(total)).sum() - np.vdot(y, z3))
            else:  # σ with BCE: ℓ = Σ (softplus(z) − y z) / N
                g.forward_into(z3, y_hat)
                value = float(softplus(z3).sum() - np.vdot(y, z3))
            np.subtract(y_hat, y, out=dz3)  # ∂ℓ/∂z3 = (ŷ − y) / N
            dz3 *= 1 / n
            return value / n
        g.forward_into(z3, y_hat) if g.elementwise else np.copyto(y_hat, g(z3))
        np.subtract(y_hat, y, out=dz3)  # mse: ℓ = Σ (ŷ − y)² / N, ∂ℓ/∂ŷ = 2 (ŷ − y) / N
        value = float(np.vdot(dz3, dz3)) / n
        dz3 *= 2 / n
        if g.elementwise:
            g.backward_into(z3, y_hat, dz3, scratch)
        else:
            np.copyto(dz3, g.vjp(z3, y_hat, dz3))
        return value
