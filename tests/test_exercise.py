"""The four setups of docs/exercise.md, on the shipped configs, with small explicit weights.

Expected values are worked out by hand (regression, in exact binary fractions) or from docs/exercise.md's
Jacobian formulas evaluated with Python's ``math`` on scalars, never from twonet's output.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from twonet_cli.core.jacobians import as_matrix, jacobians
from twonet_cli.core.model import Params, backward, forward, loss
from twonet_cli.data.sizes import load_config

A = np.array


def setup(name: str):  # type: ignore[no-untyped-def]
    return load_config(name)[0].net()


def sig(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_regression_by_hand() -> None:
    """f = 5·ReLU, g = identity, ℓ = ‖ŷ − y‖²: every number below is worked out on paper."""
    net = setup("regression")
    p = Params(W1=A([[1.0, 0.0], [0.0, -1.0]]), b1=A([0.5, 0.5]), W2=A([[2.0, 3.0]]), b2=A([1.0]))
    x, y = A([[1.0, 2.0]]), A([[10.0]])
    c = forward(net, p, x)
    assert c.z1.tolist() == [[1.5, -1.5]]  # W1 x + b1
    assert c.z2.tolist() == [[7.5, 0.0]]  # 5·max(0, z1)
    assert c.z3.tolist() == [[16.0]] and c.y_hat.tolist() == [[16.0]]  # 2·7.5 + 3·0 + 1
    assert loss(net, c, y) == 36.0  # (16 − 10)²
    j = jacobians(net, c, y)
    assert as_matrix(j.dz2_dz1[0]).tolist() == [[5.0, 0.0], [0.0, 0.0]]  # Mᵢᵢ = 5 where z1ᵢ > 0, else 0
    assert as_matrix(j.dyhat_dz3[0]).tolist() == [[1.0]]  # P = I
    assert j.dloss_dyhat[0].tolist() == [12.0]  # V = 2 (ŷ − y)
    b = backward(net, p, c, y)
    assert b.dloss_dz3.tolist() == [[12.0]]  # V P
    assert b.dloss_dz2.tolist() == [[24.0, 36.0]]  # 12 · W2
    assert b.dloss_dz1.tolist() == [[120.0, 0.0]]  # [24, 36] · diag(5, 0)
    assert b.grads.W2.tolist() == [[90.0, 0.0]]  # 12 · z2ᵀ
    assert b.grads.b2.tolist() == [12.0]
    assert b.grads.W1.tolist() == [[120.0, 240.0], [0.0, 0.0]]  # (∂ℓ/∂z1)ᵀ xᵀ
    assert b.grads.b1.tolist() == [120.0, 0.0]


def _check_by_formulas(name: str, p: Params, x: list[float], y: list[float], f: str) -> None:
    """Setups 2–4 for one sample: docs/exercise.md's M, P, V and the chain, computed with math on scalars."""
    net = setup(name)
    K = len(y)
    z1 = [sum(p.W1[i, k] * x[k] for k in range(len(x))) + p.b1[i] for i in range(len(p.b1))]
    z2 = [math.tanh(v) if f == "tanh" else max(0.0, v) for v in z1]
    z3 = [sum(p.W2[i, k] * z2[k] for k in range(len(z2))) + p.b2[i] for i in range(K)]
    yh = [sig(v) for v in z3]
    M = [1 - a * a if f == "tanh" else (1.0 if v > 0 else 0.0) for v, a in zip(z1, z2, strict=True)]
    P = [a * (1 - a) for a in yh]  # Pᵢᵢ = ŷᵢ (1 − ŷᵢ)
    if net.loss.name == "mse":  # V = 2 (ŷ − y)
        V = [2 * (a - t) for a, t in zip(yh, y, strict=True)]
        ell = sum((a - t) ** 2 for a, t in zip(yh, y, strict=True))
    else:  # Vᵢ = (1/K)((1 − yᵢ)/(1 − ŷᵢ) − yᵢ/ŷᵢ)
        V = [((1 - t) / (1 - a) - t / a) / K for a, t in zip(yh, y, strict=True)]
        ell = sum(-(t * math.log(a) + (1 - t) * math.log(1 - a)) for a, t in zip(yh, y, strict=True)) / K
    dz3 = [v * q for v, q in zip(V, P, strict=True)]
    dz2 = [sum(dz3[k] * p.W2[k, i] for k in range(K)) for i in range(len(z2))]
    dz1 = [d * mm for d, mm in zip(dz2, M, strict=True)]

    X, Y = A([x]), A([y])
    c = forward(net, p, X)
    j = jacobians(net, c, Y)
    b = backward(net, p, c, Y)
    tol = dict(rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(c.y_hat[0], yh, **tol)
    np.testing.assert_allclose(loss(net, c, Y), ell, **tol)
    np.testing.assert_allclose(as_matrix(j.dz2_dz1[0]), np.diag(M), **tol)  # diagonal, with docs/exercise.md's entries
    np.testing.assert_allclose(as_matrix(j.dyhat_dz3[0]), np.diag(P), **tol)
    np.testing.assert_allclose(j.dloss_dyhat[0], V, **tol)
    np.testing.assert_allclose(b.dloss_dz3[0], dz3, **tol)
    np.testing.assert_allclose(b.dloss_dz1[0], dz1, **tol)
    np.testing.assert_allclose(b.grads.W2, np.outer(dz3, z2), **tol)
    np.testing.assert_allclose(b.grads.b2, dz3, **tol)
    np.testing.assert_allclose(b.grads.W1, np.outer(dz1, x), **tol)
    np.testing.assert_allclose(b.grads.b1, dz1, **tol)


P_TANH = Params(W1=A([[0.5, 0.25], [-0.5, 1.0]]), b1=A([0.0, 0.5]), W2=A([[1.0, -1.0], [0.5, 2.0]]),
                b2=A([0.1, -0.2]))


def test_classification_mse() -> None:
    """f = tanh, g = σ, ℓ = ‖ŷ − y‖²: M = 1 − z2², P = ŷ(1 − ŷ), V = 2(ŷ − y)."""
    _check_by_formulas("classification-mse", P_TANH, [1.0, -1.0], [1.0, 0.0], "tanh")


def test_classification_bce() -> None:
    """f = tanh, g = σ, BCE mean over K: V = (1/K)((1 − y)/(1 − ŷ) − y/ŷ), and V P = (ŷ − y)/K."""
    _check_by_formulas("classification-bce", P_TANH, [1.0, -1.0], [1.0, 0.0], "tanh")
    net = setup("classification-bce")
    X, Y = A([[1.0, -1.0]]), A([[1.0, 0.0]])
    c = forward(net, P_TANH, X)
    np.testing.assert_allclose(backward(net, P_TANH, c, Y).dloss_dz3, (c.y_hat - Y) / 2, rtol=1e-15)


def test_classification_relu_with_a_unit_exactly_at_the_kink() -> None:
    """f = ReLU, g = σ, BCE: M = [z1 > 0]; at z1 = 0 exactly the derivative is 0, as in PyTorch."""
    p = Params(W1=A([[1.0, -1.0], [2.0, 0.5], [-1.0, -1.0]]), b1=A([0.0, 0.0, 0.5]),
               W2=A([[1.0, -2.0, 0.5]]), b2=A([0.25]))
    x = [1.0, 1.0]  # z1 = [0, 2.5, −1.5]: one unit sits exactly on the kink
    _check_by_formulas("classification-relu", p, x, [1.0], "relu")
    net = setup("classification-relu")
    c = forward(net, p, A([x]))
    assert c.z1[0, 0] == 0.0
    assert jacobians(net, c, A([[1.0]])).dz2_dz1[0].tolist() == [0.0, 1.0, 0.0]


@pytest.mark.parametrize("name", ["regression", "classification-mse", "classification-bce", "classification-relu"])
def test_shipped_setups_are_the_exercise(name: str) -> None:
    """The shipped configs are docs/exercise.md's table: f, g, loss and reduction."""
    net = setup(name)
    expected = {
        "regression": ("relu", 5.0, "identity", "mse", "sum"),
        "classification-mse": ("tanh", 1.0, "sigmoid", "mse", "sum"),
        "classification-bce": ("tanh", 1.0, "sigmoid", "bce", "mean"),
        "classification-relu": ("relu", 1.0, "sigmoid", "bce", "mean"),
    }[name]
    assert (net.f.name, net.f.scale, net.g.name, net.loss.name, net.loss.reduction) == expected
