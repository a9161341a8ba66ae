"""Saturated units, against an 80-digit reference (Python's decimal): the loss and every ∂ℓ/∂z3 of
σ + BCE and softmax + cross-entropy with hard labels, at logits up to ±1e3, to 1e-13 relative.

Where the obvious formulas cancel — ŷ − y with ŷ = σ(z) ≈ 1, softplus(z) − y·z, lse(z) − z_t —
the exact value survives only if it is computed from the logits without a subtraction.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

import numpy as np
import pytest

from twonet_cli.core.activations import Activation
from twonet_cli.core.losses import Loss

RTOL = 1e-13
UNDERFLOW = 1e-300  # below this, float64 holds no relative precision worth testing (subnormals)
CASES = 60


def near(got: float, exact: Decimal, what: str) -> None:
    want = float(exact)
    assert abs(got - want) <= RTOL * abs(want) + UNDERFLOW, f"{what}: {got!r} vs exact {want!r}"


def ln1p(x: Decimal) -> Decimal:
    """log(1 + x) for x ≥ 0, keeping x's own digits when x is tiny (its series, to x⁴)."""
    if x < Decimal("1e-12"):
        return x - x * x / 2 + x * x * x / 3 - x * x * x * x / 4
    return (1 + x).ln()


def bce_exact(z: float, y: int) -> tuple[Decimal, Decimal]:
    """(ℓ, ∂ℓ/∂z) of one element: ℓ = softplus(z) for y = 0, softplus(−z) for y = 1; ∂ℓ/∂z = σ(z) − y."""
    with localcontext() as ctx:
        ctx.prec = 80
        Z = Decimal(z)
        if y == 0:
            return ln1p(Z.exp()), 1 / (1 + (-Z).exp())
        return ln1p((-Z).exp()), -1 / (1 + Z.exp())


def ce_exact(z: Any, t: int) -> tuple[Decimal, list[Decimal]]:
    """(ℓ, ∂ℓ/∂z) of one sample: ℓ = log(1 + Σ_{j≠t} exp(zⱼ − z_t)); ∂ℓ/∂zᵢ = softmax(z)ᵢ − [i = t]."""
    with localcontext() as ctx:
        ctx.prec = 80
        Z = [Decimal(float(v)) for v in z]
        e = [(v - Z[t]).exp() for v in Z]
        others = sum(v for i, v in enumerate(e) if i != t)
        total = 1 + others
        grad = [v / total for v in e]
        grad[t] = -others / total
        return ln1p(others), grad


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_bce_loss_and_fused_gradient_are_exact_at_saturation(reduction: str) -> None:
    rng = np.random.default_rng(9)
    loss, g = Loss("bce", reduction), Activation("sigmoid")  # type: ignore[arg-type]
    for _ in range(CASES):
        B, K = (int(v) for v in rng.integers(1, 5, size=2))
        z3 = rng.normal(size=(B, K)) * 10 ** rng.uniform(0, 3)  # logits up to ~±1e3
        y = rng.integers(0, 2, size=(B, K)).astype(float)
        n = loss.divisor(B, K)
        exact = [[bce_exact(float(z3[b, k]), int(y[b, k])) for k in range(K)] for b in range(B)]
        near(float(loss.value(g, z3, y)), sum(e[0] for row in exact for e in row) / n, f"ℓ of z3={z3.tolist()}")
        dz3 = loss.dloss_dz3(g, z3, g(z3), y)
        for b in range(B):
            for k in range(K):
                near(float(dz3[b, k]), exact[b][k][1] / n, f"∂ℓ/∂z3[{b},{k}] at z={z3[b, k]!r}, y={y[b, k]}")


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_cross_entropy_loss_and_fused_gradient_are_exact_at_saturation(reduction: str) -> None:
    rng = np.random.default_rng(10)
    loss, g = Loss("cross_entropy", reduction), Activation("softmax")  # type: ignore[arg-type]
    for _ in range(CASES):
        B, K = int(rng.integers(1, 5)), int(rng.integers(2, 6))
        z3 = rng.normal(size=(B, K)) * 10 ** rng.uniform(0, 3)
        t = rng.integers(0, K, size=B)
        y = np.eye(K)[t]
        n = loss.divisor(B, K)
        exact = [ce_exact(z3[b], int(t[b])) for b in range(B)]
        near(float(loss.value(g, z3, y)), sum(e[0] for e in exact) / n, f"ℓ of z3={z3.tolist()}, t={t.tolist()}")
        dz3 = loss.dloss_dz3(g, z3, g(z3), y)
        for b in range(B):
            for k in range(K):
                near(float(dz3[b, k]), exact[b][1][k] / n, f"∂ℓ/∂z3[{b},{k}] of z={z3[b].tolist()}, t={t[b]}")


def test_the_cases_the_obvious_formulas_get_wrong() -> None:
    """The issue's examples: σ(33) − 1 and a correct, confident softmax."""
    g, bce = Activation("sigmoid"), Loss("bce", "sum")
    z, y = np.array([[33.0]]), np.array([[1.0]])
    near(float(bce.dloss_dz3(g, z, g(z), y)[0, 0]), bce_exact(33.0, 1)[1], "σ(33) − 1")  # naive: −4.6629e-15
    near(float(bce.value(g, np.array([[85.0]]), y)), bce_exact(85.0, 1)[0], "softplus(−85)")  # naive: 0
    ce, sm = Loss("cross_entropy", "sum"), Activation("softmax")
    z = np.array([[40.0, 0.0, -3.0]])
    exact_loss, exact_grad = ce_exact(z[0], 0)
    near(float(ce.value(sm, z, np.eye(3)[[0]])), exact_loss, "ℓ of a confident correct softmax")  # naive: 0
    near(float(ce.dloss_dz3(sm, z, sm(z), np.eye(3)[[0]])[0, 0]), exact_grad[0], "softmax₀ − 1")
