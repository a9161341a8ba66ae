"""The cases `check --impl` drives a student's code through, each with twonet's exact values: for
the course's skeleton every f × g × loss it allows (f, g ∈ relu, sigmoid, identity; MSE, and BCE
after a sigmoid) at the course's size 2 → 20 → 5 with a batch of 10, at batch 1 and at K = 1, and
two batches of integers that put ReLU inputs exactly at 0; for a plain function, the config's
network at its own sizes and a small one. Every case is drawn from a fixed seed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..check.impl import Exact
from ..core.activations import Activation, Array
from ..core.explain import explain
from ..core.losses import Loss, one_hot
from ..core.model import Net, Params

SKELETON_FUNCTIONS = ("relu", "sigmoid", "identity")
SIZES = (("the course's size", 2, 20, 5, 10), ("batch 1", 3, 4, 2, 1), ("K = 1", 4, 3, 1, 6))


@dataclass(frozen=True)
class Case:
    """One network and batch, its exact values, and how the report names it."""

    label: str
    net: Net
    params: Params
    x: Array
    y: Array
    exact: Exact

    def job(self) -> dict[str, Any]:
        """What the child process needs to drive the student's code on this case."""
        n, m, K = self.params.shape
        return {"f": self.net.f.name, "g": self.net.g.name, "loss": self.net.loss.name, "n": n, "m": m, "K": K,
                "x": self.x.tolist(), "y": self.y.tolist(), "params": {k: a.tolist() for k, a in self.params.items()},
                "dJdy": self.exact.values["dJdy_hat"].tolist()}


def exact_case(label: str, net: Net, p: Params, x: Array, y: Array) -> Case:
    """A case with twonet's values for it."""
    e = explain(net, p, x, y)
    c = e.cache
    values = {"y_hat": c.y_hat, "J": np.asarray(e.loss), "dJdy_hat": e.jac.dloss_dyhat,
              **{f"dJd{k}": a for k, a in e.back.grads.items()}}
    return Case(label, net, p, x, y, Exact(c.x, c.z1, c.z2, c.z3, p.W2, values))


def targets(net: Net, B: int, K: int, rng: np.random.Generator, hard: bool) -> Array:
    """y for the loss: real numbers for MSE, 0/1 (or in between) for BCE, one-hot rows for cross-entropy."""
    match net.loss.name:
        case "bce":
            return rng.integers(0, 2, size=(B, K)).astype(float) if hard else rng.uniform(0.05, 0.95, size=(B, K))
        case "cross_entropy":
            return one_hot(rng.integers(0, K, size=B), K)
    return rng.standard_normal((B, K))


SATURATED = 1e-3  # a σ output nearer 0 or 1 than this is redrawn: the textbook formulas lose digits there


def random_case(label: str, net: Net, sizes: tuple[int, int, int, int], seed: int) -> Case:
    """x and biases from N(0, 1) (the skeleton's torch.randn), weights N(0, 1/fan_in), targets for
    the loss; redrawn while a σ output is within SATURATED of 0 or 1, where a correct textbook
    formula (1 − ŷ, log ŷ) would itself be off in its last digits and look like a mistake."""
    n, m, K, B = sizes
    rng = np.random.default_rng(seed)
    while True:
        p = Params(rng.standard_normal((m, n)) / np.sqrt(n), rng.standard_normal(m),
                   rng.standard_normal((K, m)) / np.sqrt(m), rng.standard_normal(K))
        case = exact_case(label, net, p, rng.standard_normal((B, n)), targets(net, B, K, rng, hard=B >= 10))
        e = case.exact
        outputs = [e.values["y_hat"]] * (net.g.name == "sigmoid") + [e.z2] * (net.f.name == "sigmoid")
        live = all(e.values[q].any() for q in ("dJdW1", "dJdb1", "dJdW2", "dJdb2"))  # a dead output tests nothing
        if live and all(((a > SATURATED) & (a < 1 - SATURATED)).all() for a in outputs):
            return case


def kink_case(label: str, net: Net, seed: int, K: int = 3) -> Case:
    """Small integers, redrawn until some ReLU input is exactly 0 (and, for a ReLU g, some z3 too), while
    other units are active: there the derivative is a convention (0, as autograd takes it)."""
    rng = np.random.default_rng(seed)
    n, m, B = 2, 6, 4
    while True:
        p = Params(*(rng.integers(-2, 3, size=s).astype(float) for s in ((m, n), (m,), (K, m), (K,))))
        x = rng.integers(-2, 3, size=(B, n)).astype(float)
        z1 = x @ p.W1.T + p.b1
        z3 = np.maximum(z1, 0) * net.f.scale @ p.W2.T + p.b2
        if (z1 == 0).any() and (z1 > 0).any() and (net.g.name != "relu" or ((z3 == 0).any() and (z3 > 0).any())):
            return exact_case(label, net, p, x, targets(net, B, K, rng, hard=True))


def name(net: Net, n: int, m: int, K: int, B: int, what: str) -> str:
    """A case as the report names it: f·g·loss, the sizes n→m→K, the batch, and "at 0" for a kink's."""
    return (f"{net.f.label()}·{net.g.label()}·{net.loss.name} {n}→{m}→{K} B={B}"
            + (" at 0" if what.startswith("ReLU inputs at 0") else ""))


def skeleton_cases() -> list[Case]:
    """Every f × g × loss the course's skeleton allows, at each size, then two at ReLU's kink."""
    cases: list[Case] = []
    combos: list[tuple[Any, Any, Any]] = [(f, g, "mse") for f in SKELETON_FUNCTIONS for g in SKELETON_FUNCTIONS]
    combos += [(f, "sigmoid", "bce") for f in SKELETON_FUNCTIONS]
    for what, n, m, K, B in SIZES:
        for f, g, loss in combos:
            net = Net(Activation(f), Activation(g), Loss(loss, "mean"))
            cases.append(random_case(name(net, n, m, K, B, what), net, (n, m, K, B), seed=len(cases)))
    for g in (Activation("identity"), Activation("relu")):
        net = Net(Activation("relu"), g, Loss("mse", "mean"))
        cases.append(kink_case(name(net, 2, 6, 3, 4, "ReLU inputs at 0"), net, seed=100 + len(cases)))
    return cases


def function_cases(net: Net, shape: tuple[int, int, int]) -> list[Case]:
    """The config's network at its sizes (batch 1 and 10) and at a small one, and at ReLU's kink."""
    n, m, K = shape
    sizes = [(n, m, K, 1, "batch 1"), (n, m, K, 10, "the config's size"), (3, 4, K, 5, "a small one")]
    cases = [random_case(name(net, a, b, c, B, what), net, (a, b, c, B), seed=i)
             for i, (a, b, c, B, what) in enumerate(sizes)]
    if net.f.name == "relu":
        cases.append(kink_case(name(net, 2, 6, K, 4, "ReLU inputs at 0"), net, seed=100, K=K))
    return cases
