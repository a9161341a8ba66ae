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

    def value(self, g: Activation, z3: Array, y_hat: Array, y: Array) -> Any:
        """The reduced loss ℓ, a scalar of the input's dtype."""
        n = self.divisor(y)
        match self.name:
            case "mse":  # Σ (ŷ − y)²
                total = ((y_hat - y) ** 2).sum()
            case "bce":  # −[y log σ(z) + (1−y) log(1−σ(z))] = softplus(z) − y z; g = σ (the config ensures it)
                total = (softplus(z3) - y * z3).sum()
            case "cross_entropy":  # −Σᵢ yᵢ log softmax(z)ᵢ = logsumexp(z) − y·z for Σᵢ yᵢ = 1
                total = (logsumexp(z3) - (y * z3).sum(axis=-1)).sum()
            case _:
                raise ValueError(self.name)
        return total / n

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
