"""Numerical care (docs/exercise.md): huge logits give finite values, exact limits, and no numpy warnings.

pytest runs with warnings as errors (pyproject.toml), so any overflow warning fails these tests.
"""

from __future__ import annotations

import numpy as np
import pytest

from twonet_cli.core.activations import ELEMENTWISE, Activation, logsumexp, sigmoid, softplus
from twonet_cli.core.jacobians import local_jacobian
from twonet_cli.core.losses import Loss

BIG = np.array([[-1e4, -50.0, -1.0, 0.0, 1.0, 50.0, 1e4]])


def test_sigmoid_and_softplus_limits() -> None:
    s = sigmoid(BIG)
    assert s[0, 0] == 0.0 and s[0, -1] == 1.0 and s[0, 3] == 0.5
    np.testing.assert_allclose(s[0, 1], np.exp(-50.0), rtol=1e-15)  # keeps its digits far from 1
    sp = softplus(BIG)
    assert sp[0, 0] == 0.0 and sp[0, -1] == 1e4 and sp[0, 3] == np.log(2.0)
    np.testing.assert_allclose(sp[0, 1], np.exp(-50.0), rtol=1e-15)  # log1p, not log(1 + ·)


def test_logsumexp_does_not_overflow() -> None:
    z = np.array([[1e4, 1e4, -1e4]])
    np.testing.assert_allclose(logsumexp(z), [1e4 + np.log(2.0)], rtol=1e-15)


@pytest.mark.parametrize("name", [*ELEMENTWISE, "softmax"])
def test_every_function_is_finite_at_huge_logits(name: str) -> None:
    act = Activation(name, scale=5.0)  # type: ignore[arg-type]
    a = act(BIG)
    assert np.isfinite(a).all()
    assert np.isfinite(local_jacobian(act, BIG, a)).all()
    assert np.isfinite(act.vjp(BIG, a, np.ones_like(BIG))).all()


def test_saturated_derivatives_keep_their_digits() -> None:
    """1 − tanh²(z) and σ(z)(1 − σ(z)) far out: computed without the cancellation of 1 − a."""
    z = np.array([[20.0, -20.0]])
    tanh, sig = Activation("tanh"), Activation("sigmoid")
    np.testing.assert_allclose(tanh.derivative(z, tanh(z)), 1 / np.cosh(z) ** 2, rtol=1e-14)
    np.testing.assert_allclose(sig.derivative(z, sig(z)), np.exp(-20.0) / (1 + np.exp(-20.0)) ** 2, rtol=1e-14)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_bce_and_cross_entropy_at_huge_logits(reduction: str) -> None:
    z3 = np.array([[1e4], [-1e4], [1e4]])
    y = np.array([[0.0], [1.0], [1.0]])
    sigma = Activation("sigmoid")
    bce = Loss("bce", reduction)  # type: ignore[arg-type]
    y_hat = sigma(z3)
    n = 1 if reduction == "sum" else 3
    # −log σ(−1e4) = 1e4 exactly, where a clamped log(ŷ) would say 100
    assert bce.value(sigma, z3, y) == pytest.approx(2e4 / n, rel=1e-15)
    np.testing.assert_array_equal(bce.dloss_dz3(sigma, z3, y_hat, y), (y_hat - y) / n)
    V = bce.dloss_dyhat(y_hat, y)
    assert np.isfinite(V).all()  # ŷ(1 − ŷ) = 0 is clamped at 1e-12 like PyTorch's BCELoss

    softmax = Activation("softmax")
    ce = Loss("cross_entropy", reduction)  # type: ignore[arg-type]
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]])
    t = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    p = softmax(z)
    m = 1 if reduction == "sum" else 2
    assert ce.value(softmax, z, t) == pytest.approx(2e4 / m, rel=1e-15)
    assert np.isfinite(ce.dloss_dyhat(p, t)).all()
    np.testing.assert_array_equal(ce.dloss_dz3(softmax, z, p, t), (p - t) / m)


def test_complex_inputs_pass_through_every_function() -> None:
    """The complex step needs every value analytic in z: Im f(x + ih)/h = f'(x)."""
    h = 1e-30
    z = np.array([[-3.0, -0.5, 0.7, 2.0]])
    for name in ELEMENTWISE:
        act = Activation(name, scale=5.0)  # type: ignore[arg-type]
        got = act(z + 1j * h).imag / h
        np.testing.assert_allclose(got, act.derivative(z, act(z)), rtol=1e-14, err_msg=name)
