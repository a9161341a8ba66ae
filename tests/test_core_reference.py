"""Every f × g × loss × reduction of docs/exercise.md against an independent reference, in float64.

Three oracles, none of them twonet's own output: docs/exercise.md's per-sample formulas with explicit
Jacobian matrices (tests/reference.py), the complex step on that reference's loss (exact to
rounding), and central differences (a cruder, fully independent check).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from twonet_cli.config.schema import TrainConfig
from twonet_cli.core.activations import Activation
from twonet_cli.core.jacobians import as_matrix, jacobians
from twonet_cli.core.losses import Loss
from twonet_cli.core.model import Net, Params, backward, forward, loss
from twonet_cli.train.sgd import SGD

from . import reference as ref

COMBOS = [(f, g, lo, red) for f in ref.ELEMENTWISE for g, lo in ref.OUTPUTS for red in ("sum", "mean")]
RTOL = 1e-11  # float64 rounding after a few dozen operations, relative to the array's scale


def make_net(f: str, g: str, lo: str, red: str) -> Net:
    act = lambda name: Activation(name, scale=ref.SCALE, slope=ref.SLOPE)  # type: ignore[arg-type]  # noqa: E731
    return Net(act(f), act(g), Loss(lo, red))  # type: ignore[arg-type]


def random_problem(rng: np.random.Generator, g: str, lo: str) -> tuple[Params, Any, Any]:
    n, m, B = (int(v) for v in rng.integers(1, 6, size=3))
    K = int(rng.integers(2 if g == "softmax" else 1, 5))
    p = Params(rng.normal(size=(m, n)), rng.normal(size=m), rng.normal(size=(K, m)), rng.normal(size=K))
    X = rng.normal(size=(B, n))
    if lo == "cross_entropy":
        Y = np.eye(K)[rng.integers(0, K, size=B)]
    elif lo == "bce":
        Y = rng.uniform(size=(B, K))
    else:
        Y = rng.normal(size=(B, K))
    return p, X, Y


def close(actual: Any, expected: Any, rtol: float = RTOL, what: str = "") -> None:
    """Equal to within rtol of the larger array's magnitude (so zeros compare sensibly)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    scale = max(np.abs(expected).max(initial=0.0), np.abs(actual).max(initial=0.0), 1e-300)
    err = np.abs(actual - expected).max(initial=0.0) / scale
    assert err <= rtol, f"{what}: relative error {err:.3e} > {rtol:.0e}\nactual={actual}\nexpected={expected}"


def within(actual: Any, expected: Any, bound: Any, what: str, rtol: float = RTOL) -> None:
    """|actual − expected| ≤ rtol · bound, entry by entry: rounding relative to the terms summed."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    ratio = np.abs(actual - expected) / np.maximum(bound, 1e-300)
    worst = np.unravel_index(np.argmax(ratio), ratio.shape)
    assert ratio[worst] <= rtol, (
        f"{what}: error {ratio[worst]:.3e} of its scale at {worst}: {actual[worst]!r} vs {expected[worst]!r}"
    )


@pytest.mark.parametrize("f,g,lo,red", COMBOS, ids=["-".join(c) for c in COMBOS])
@settings(deadline=None, max_examples=int(os.environ.get("TWONET_EXAMPLES", 8)))
@given(seed=st.integers(0, 2**32 - 1))
def test_matches_spec_formulas_and_complex_step(f: str, g: str, lo: str, red: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    p, X, Y = random_problem(rng, g, lo)
    net = make_net(f, g, lo, red)
    c = forward(net, p, X)
    b = backward(net, p, c, Y)
    j = jacobians(net, c, Y)
    # The naive reference's V = (1−y)/(1−ŷ) − y/ŷ is infinite once σ rounds to exactly 0 or 1.
    assume(lo != "bce" or np.all(np.abs(c.z3) < 30))
    r = ref.backprop(f, g, lo, red, p.W1, p.b1, p.W2, p.b2, X, Y)

    for name in ("z1", "z2", "z3", "y_hat"):
        close(getattr(c, name), r[name], what=name)
    bound = r["bound"]
    within(loss(net, c, Y), r["loss"], bound["loss"], "loss")
    within(np.stack([as_matrix(m) for m in j.dz2_dz1]), r["M"], bound["M"], "M")
    within(np.stack([as_matrix(m) for m in j.dyhat_dz3]), r["P"], bound["P"], "P")
    within(j.dloss_dyhat, r["V"], bound["V"], "V")
    for name in ("dz3", "dz2", "dz1"):
        within(getattr(b, "dloss_" + name), r[name], bound[name], name)
    for name in ("W1", "b1", "W2", "b2"):
        within(getattr(b.grads, name), r[name], bound[name], name)

    # The complex step differentiates the reference loss: an oracle with no cancellation error.
    theta = dict(p.items())
    for name in theta:
        def of(t: Any, name: str = name) -> Any:
            return ref.total_loss(f, g, lo, red, **{**theta, name: t}, X=X, Y=Y)

        within(getattr(b.grads, name), ref.complex_step(of, theta[name]), bound[name], f"{name} vs complex step")


@pytest.mark.parametrize("f,g,lo", [(f, g, lo) for f in ref.ELEMENTWISE for g, lo in ref.OUTPUTS])
def test_matches_central_differences(f: str, g: str, lo: str) -> None:
    rng = np.random.default_rng(12345)
    p, X, Y = random_problem(rng, g, lo)
    net = make_net(f, g, lo, "mean")
    grads = backward(net, p, forward(net, p, X), Y).grads
    theta = dict(p.items())
    for name in theta:
        def of(t: Any, name: str = name) -> Any:
            return loss(net, forward(net, Params(**{**theta, name: t}), X), Y)

        close(getattr(grads, name), ref.central_difference(of, theta[name]), rtol=1e-6)


def test_the_oracles_catch_a_wrong_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    """A backward pass that forgets ReLU's scale must fail the comparison above."""
    rng = np.random.default_rng(7)
    p, X, Y = random_problem(rng, "identity", "mse")
    net = make_net("relu", "identity", "mse", "sum")
    original = Activation.derivative

    def forgot_the_scale(self: Activation, z: Any, a: Any, out: Any = None) -> Any:
        return np.multiply(z.real > 0, 1.0, out=out) if self.name == "relu" else original(self, z, a, out)

    monkeypatch.setattr(Activation, "derivative", forgot_the_scale)
    b = backward(net, p, forward(net, p, X), Y)
    r = ref.backprop("relu", "identity", "mse", "sum", p.W1, p.b1, p.W2, p.b2, X, Y)
    close(b.grads.W2, r["W2"])  # W2 does not pass through f's derivative
    if np.any(r["W1"]):
        with pytest.raises(AssertionError, match="relative error"):
            close(b.grads.W1, r["W1"])
    close(b.grads.W1 * ref.SCALE, r["W1"])  # exactly the missing factor


@pytest.mark.parametrize("f,g,lo,red", COMBOS, ids=["-".join(c) for c in COMBOS])
def test_training_steps_on_the_reference_gradients(f: str, g: str, lo: str, red: str) -> None:
    """SGD runs model.backward into its buffers (flat θ, W1ᵀ and W2ᵀ layout, a last batch shorter
    than the buffers): its gradient is the reference's, and plain SGD moves θ by exactly −η of it."""
    rng = np.random.default_rng(2024)
    p, X, Y = random_problem(rng, g, lo)
    net = make_net(f, g, lo, red)
    assert lo != "bce" or np.all(np.abs(forward(net, p, X).z3) < 30)  # the naive reference's V is finite here
    r = ref.backprop(f, g, lo, red, p.W1, p.b1, p.W2, p.b2, X, Y)
    B, lr = len(X), 0.125
    for buffer_rows in (B, B + 3):
        with_momentum = SGD(net, p, TrainConfig(momentum=0.5), buffer_rows)  # keeps ∂ℓ/∂θ unscaled
        with_momentum.step(X, Y, lr)
        for name, got in with_momentum.last_grads.items():
            within(got, r[name], r["bound"][name], f"∂ℓ/∂{name} in SGD's buffers ({buffer_rows} rows)")
        plain = SGD(net, p, TrainConfig(), buffer_rows)  # folds η into the backward pass
        plain.step(X, Y, lr)
        for name, after in plain.params.items():
            before = getattr(p, name)
            within(after, before - lr * r[name], np.abs(before) + lr * r["bound"][name], f"θ − η ∂ℓ/∂{name}")


def test_training_gradient_check_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above catches a wrong derivative in the shared backward pass."""
    rng = np.random.default_rng(2024)
    p, X, Y = random_problem(rng, "sigmoid", "mse")
    net = make_net("tanh", "sigmoid", "mse", "mean")
    r = ref.backprop("tanh", "sigmoid", "mse", "mean", p.W1, p.b1, p.W2, p.b2, X, Y)
    original = Activation.derivative

    def one_minus_a(self: Activation, z: Any, a: Any, out: Any = None) -> Any:  # tanh′ written as 1 − a
        return np.subtract(1, a, out=out) if self.name == "tanh" else original(self, z, a, out)

    monkeypatch.setattr(Activation, "derivative", one_minus_a)
    sgd = SGD(net, p, TrainConfig(momentum=0.5), len(X))
    sgd.step(X, Y, 0.1)
    with pytest.raises(AssertionError, match="∂ℓ/∂W1"):
        within(sgd.last_grads.W1, r["W1"], r["bound"]["W1"], "∂ℓ/∂W1")
