"""How large the terms are that each gradient entry is summed from: the scale of its rounding error.

An entry of ∂ℓ/∂W1 is Σ_b ∂ℓ/∂z1[b, j]·x[b, k]; when those products cancel, the sum is far
smaller than its terms, and both the analytic value and any numerical reference carry rounding
errors of ε times the terms, not ε times the sum. The backward chain run on absolute values
(|∂ℓ/∂z3|-sized terms, |W2|, |f′|, |x|) gives that size for every entry (pure numpy).
"""

from __future__ import annotations

import numpy as np

from ..core.activations import Array
from ..core.jacobians import local_jacobian
from ..core.model import Cache, Net, Params


def dz3_terms(net: Net, c: Cache, y: Array) -> Array:
    """The size of the terms each ∂ℓ/∂z3 entry is computed from, (B, K)."""
    loss, g = net.loss, net.g
    n = loss.divisor(*y.shape)
    if loss.fused(g):  # N·∂ℓ/∂z3 = (plus − minus)/S, two non-negative parts
        plus, minus, S = loss.fused_parts(g, c.z3, y)
        return (np.abs(plus) + np.abs(minus)) / S / n
    v = 2 * (np.abs(c.y_hat) + np.abs(y)) / n  # mse: V = 2 (ŷ − y) / N
    J = np.abs(local_jacobian(g, c.z3, c.y_hat))
    return v * J if J.ndim == 2 else np.einsum("bi,bij->bj", v, J)


def gradient_terms(net: Net, p: Params, c: Cache, y: Array) -> dict[str, Array]:
    """For W1, b1, W2, b2: the size of the terms each gradient entry is the sum of."""
    d3 = dz3_terms(net, c, y)
    d1 = (d3 @ np.abs(p.W2)) * np.abs(local_jacobian(net.f, c.z1, c.z2))
    return {"W1": d1.T @ np.abs(c.x), "b1": d1.sum(axis=0), "W2": d3.T @ np.abs(c.z2), "b2": d3.sum(axis=0)}


def complex_step_floors(net: Net, p: Params, c: Cache, y: Array, floor: float) -> dict[str, Array]:
    """For W1, b1, W2, b2: the absolute resolution of their complex-step references, given the
    resolution ``floor`` of one Im f(z + ih)/h. ∂ℓ/∂W1 is assembled from two such factors, ∂ℓ/∂z2
    and f′(z1), times x (see numeric._complex_w1), so their floors add up, scaled by those factors."""
    d2 = np.abs(dz3_terms(net, c, y) @ np.abs(p.W2)) + np.abs(local_jacobian(net.f, c.z1, c.z2))
    K = p.b2.shape[0]
    return {"W1": floor * np.maximum(1.0, d2.T @ np.abs(c.x)), "b1": floor * np.maximum(1.0, d2.sum(axis=0)),
            "W2": np.full(p.W2.shape, floor), "b2": np.full(K, floor)}
