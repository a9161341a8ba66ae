"""`twonet check` on saturated networks: weights and inputs scaled ×1…×100, where σ, tanh and
softmax saturate and the obvious formulas cancel. Twonet's own gradients pass every time; the
planted mistakes still fail, each named; every entry left unjudged is counted with its reason."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twonet_cli.check.report import CheckReport, random_batch, run_check
from twonet_cli.core.activations import Activation
from twonet_cli.core.losses import Loss
from twonet_cli.core.model import PARAM_NAMES, Net, Params, backward, forward, init_params

from . import reference as ref

COMBOS = [(f, g, lo, red) for f in ref.ELEMENTWISE for g, lo in ref.OUTPUTS for red in ("sum", "mean")]


def scaled_problem(rng: np.random.Generator, g: str, lo: str, scale: float) -> tuple[Params, Any, Any]:
    n, m, B = (int(v) for v in rng.integers(1, 6, size=3))
    K = int(rng.integers(2 if g == "softmax" else 1, 5))
    p = init_params(n, m, K, rng)
    p = Params(p.W1 * scale, p.b1 * scale, p.W2 * scale, p.b2 * scale)
    x, y = random_batch(n, K, lo, B, rng)  # type: ignore[arg-type]
    if lo == "bce":
        y = np.round(y)  # hard labels: where saturation cancels most
    return p, x * scale, y


def failing(r: CheckReport) -> dict[str, str]:
    return {row.name: f"{row.primary.top_failures(1)}" for row in r.rows if not r.row_passed(row)}


@pytest.mark.parametrize("f,g,lo,red", COMBOS, ids=["-".join(c) for c in COMBOS])
@settings(max_examples=4)
@given(seed=st.integers(0, 2**31), scale=st.floats(1, 100))
def test_own_gradients_pass_when_units_saturate(f: str, g: str, lo: str, red: str, seed: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    net = Net(Activation(f, scale=5.0), Activation(g), Loss(lo, red))  # type: ignore[arg-type]
    p, x, y = scaled_problem(rng, g, lo, scale)
    r = run_check(net, p, x, y)
    assert r.passed, failing(r)
    for name, count, why in r.waivers():  # nothing hidden: every skipped entry has a count and a reason
        assert count > 0 and why, (name, count, why)


def saturated(f: str = "tanh", g: str = "sigmoid", lo: str = "bce", scale: float = 60.0,
              seed: int = 4) -> tuple[Net, Params, Any, Any, dict[str, Any]]:
    rng = np.random.default_rng(seed)
    net = Net(Activation(f, scale=5.0), Activation(g), Loss(lo, "mean"))  # type: ignore[arg-type]
    p = init_params(3, 4, 2 if g != "softmax" else 3, rng)
    p = Params(p.W1 * scale, p.b1 * scale, p.W2 * scale, p.b2 * scale)
    x, y = random_batch(3, p.b2.shape[0], lo, 6, rng)  # type: ignore[arg-type]
    x = x * scale
    if lo == "bce":
        y = np.round(y)
    z3 = forward(net, p, x).z3
    assert np.abs(z3).max() > 25  # the output really saturates: σ(25) = 1 − 1.4e-11
    return net, p, x, y, dict(backward(net, p, forward(net, p, x), y).grads.items())


@pytest.mark.parametrize("setup", [("tanh", "sigmoid", "bce"), ("relu", "softmax", "cross_entropy"),
                                   ("sigmoid", "sigmoid", "mse")])
def test_planted_mistakes_still_fail_on_saturated_networks(setup: tuple[str, str, str]) -> None:
    net, p, x, y, g = saturated(*setup)
    assert run_check(net, p, x, y, grads=g).passed  # the right gradients pass ...
    wrong = {  # ... and each mistake fails, named
        "×5": ({k: v * 5 for k, v in g.items()}, "factor"),
        "reduction": ({k: v * 6 for k, v in g.items()}, "factor"),
        "sign": ({k: -v for k, v in g.items()}, "sign"),
        "transposed W1": ({**g, "W1": g["W1"].T}, "transposed"),
    }
    one = g["W2"].copy()
    one[0, 1] += 1e-3 * max(np.abs(one).max(), 1e-6)
    wrong["single entry"] = ({**g, "W2": one}, "entries")
    for what, (grads, kind) in wrong.items():
        r = run_check(net, p, x, y, grads=grads)
        assert not r.passed, what
        assert kind in {f.kind for f in r.findings}, (what, r.findings)


def test_relu_scale_missing_fails_on_a_saturated_regression() -> None:
    rng = np.random.default_rng(11)
    net = Net(Activation("relu", scale=5.0), Activation("identity"), Loss("mse", "sum"))
    p = init_params(2, 8, 1, rng)
    p = Params(p.W1 * 50, p.b1 * 50, p.W2 * 50, p.b2 * 50)
    x, y = rng.normal(size=(5, 2)) * 50, rng.normal(size=(5, 1))
    g = dict(backward(net, p, forward(net, p, x), y).grads.items())
    r = run_check(net, p, x, y, grads={**g, "W1": g["W1"] / 5, "b1": g["b1"] / 5})
    assert not r.passed and {f.param for f in r.findings} == {"W1", "b1"}
    assert all("ReLU scale is missing" in f.message for f in r.findings)
    assert set(PARAM_NAMES) - {"W1", "b1"} <= {row.name for row in r.params if r.row_passed(row)}
