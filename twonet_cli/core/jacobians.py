"""The local Jacobians of docs/exercise.md, per sample: ∂z2/∂z1, ∂ŷ/∂z3 and ∂ℓ/∂ŷ (pure numpy).

Elementwise functions have diagonal Jacobians and are kept as their diagonals (B, d); a full
(d, d) matrix is built only for the sample a reader asks to see. Softmax is the one full case.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import Activation, Array, sigmoid_pair, softmax_parts
from .model import Cache, Net


@dataclass(frozen=True)
class Jacobians:
    """∂z2/∂z1 (B, m) as its diagonal; ∂ŷ/∂z3 (B, K) diagonal, or (B, K, K) for softmax; ∂ℓ/∂ŷ (B, K)."""

    dz2_dz1: Array
    dyhat_dz3: Array
    dloss_dyhat: Array


def local_jacobian(fn: Activation, z: Array, a: Array) -> Array:
    """∂a/∂z for each row of a batch: its diagonal (B, d) when ``fn`` is elementwise, else (B, d, d).

    Softmax: diag(a) − a aᵀ, with the diagonal aᵢ(1 − aᵢ) taken as aᵢ·restᵢ/S from the logits
    (softmax_parts), so that it keeps its digits where aᵢ rounds to 1."""
    if fn.elementwise:
        return fn.derivative(z, a)
    _, S, rest = softmax_parts(z)
    J = -a[:, :, None] * a[:, None, :]  # −a aᵀ off the diagonal
    idx = np.arange(z.shape[-1])
    J[:, idx, idx] = a * rest / S  # aᵢ (1 − aᵢ)
    return J


def as_matrix(jacobian: Array) -> Array:
    """One sample's Jacobian as a full matrix: a diagonal (d,) becomes diag(d); a (d, d) stays."""
    return np.diag(jacobian) if jacobian.ndim == 1 else jacobian


def jacobians(net: Net, c: Cache, y: Array) -> Jacobians:
    """∂z2/∂z1, ∂ŷ/∂z3 and ∂ℓ/∂ŷ for every sample of the batch."""
    return Jacobians(
        dz2_dz1=local_jacobian(net.f, c.z1, c.z2),
        dyhat_dz3=local_jacobian(net.g, c.z3, c.y_hat),
        dloss_dyhat=net.loss.dloss_dyhat(c.y_hat, y, complement=sigmoid_pair(c.z3)[1] if net.g.name == "sigmoid"
                                          else None),
    )
