"""Judge what a student's own forward and backward code computed on one case against twonet's exact
values: each quantity right (to float64 rounding), or the mistake in words — a wrong activation
derivative (at 0, on one side, σ′ written as σ, …) found by recomputing the chain with each
classic wrong derivative, else a transpose, a sign, a factor with its cause (a reduction off by N,
B or K, the 2 of the MSE, the ×5 of the ReLU) or wrong entries, as `grade` names them. Beside it,
the course's own criterion: ‖yours − autograd‖₂ < 1e-3 per gradient. Pure numpy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.activations import Array
from ..core.model import Net
from .marking import GRADIENTS, Answer, Tolerance, all_four, line_up, mark

# The quantities compared, as the course's skeleton names them, and the item `mark` knows each as
QUANTITIES = {"y_hat": "y_hat", "J": "loss", "dJdy_hat": "dy_hat", "dJdW1": "dW1", "dJdb1": "db1", "dJdW2": "dW2",
              "dJdb2": "db2"}
GRADS = ("dJdW1", "dJdb1", "dJdW2", "dJdb2")
EXACT_RTOL = 1e-9  # float64 code agrees with twonet to ~1e-15; a real mistake is off by O(1)
FLOAT32_RTOL = 1e-4  # code that computes in float32 agrees to ~1e-7
COURSE_NORM = 1e-3  # the course's tests: ‖yours − autograd‖₂ < 1e-3 for each gradient

Derivative = Callable[[Array, Array], Array]  # (z, a = f(z)) → the diagonal of ∂a/∂z


@dataclass(frozen=True)
class Given:
    """A value the student's code produced: its array, and whether it was float32."""

    value: Array
    float32: bool = False


@dataclass(frozen=True)
class Verdict:
    """One quantity of one case: passed, or the kind of mistake and what it is in words."""

    quantity: str
    passed: bool
    kind: str  # exact | float32 | derivative | missing | error | …the kinds of marking.mark
    message: str


@dataclass(frozen=True)
class Exact:
    """twonet's values for one case: what every quantity must be, and what the chain is built from."""

    x: Array
    z1: Array
    z2: Array
    z3: Array
    W2: Array
    values: dict[str, Array]  # y_hat, J, dJdy_hat, and the four gradients


def wrong_derivatives(name: str, scale: float = 1.0) -> list[tuple[str, Derivative]]:
    """The classic wrong derivatives of f or g (relu, sigmoid, identity, tanh), each with what it is in words."""
    c = "" if scale == 1 else f"{scale:g}·"
    match name:
        case "relu":
            return [(f"{c}[z ≥ 0]: the ReLU's derivative at 0 taken as 1 (autograd, and the exercise, take 0)",
                     lambda z, a: scale * (z >= 0)),
                    (f"{c}([z > 0] + ½[z = 0]): the ReLU's derivative at 0 taken as ½ (autograd takes 0)",
                     lambda z, a: scale * ((z > 0) + 0.5 * (z == 0))),
                    (f"{c}[z < 0]: the ReLU's derivative on the wrong side of 0", lambda z, a: scale * (z < 0)),
                    ("max(0, z): the ReLU itself used as its derivative", lambda z, a: a),
                    ("1 everywhere: the ReLU's derivative left out", lambda z, a: np.ones_like(z))]
        case "sigmoid":
            return [("σ(z): σ′ written as σ", lambda z, a: a),
                    ("1 − σ(z): σ′ without its factor σ(z)", lambda z, a: 1 - a),
                    ("z(1 − z): σ′ applied to z, not to σ(z)", lambda z, a: z * (1 - z)),
                    ("σ(σ(z))(1 − σ(σ(z))): σ′ applied to σ(z) again",
                     lambda z, a: (1 / (1 + np.exp(-a))) * (1 - 1 / (1 + np.exp(-a)))),
                    ("1 everywhere: σ′ left out", lambda z, a: np.ones_like(z))]
        case "tanh":
            return [("tanh(z): tanh′ written as tanh", lambda z, a: a),
                    ("1 − z²: tanh′ applied to z, not to tanh(z)", lambda z, a: 1 - z**2),
                    ("1 everywhere: tanh′ left out", lambda z, a: np.ones_like(z))]
        case "identity":
            return [("0: the identity's derivative taken as 0", lambda z, a: np.zeros_like(z))]
    return []


def chain(e: Exact, dJdy: Array, f_prime: Array, g_prime: Array) -> dict[str, Array]:
    """The four gradients by the chain rule for elementwise f and g, from these local derivatives."""
    dz3 = dJdy * g_prime
    dz1 = (dz3 @ e.W2) * f_prime
    return {"dJdW1": dz1.T @ e.x, "dJdb1": dz1.sum(axis=0), "dJdW2": dz3.T @ e.z2, "dJdb2": dz3.sum(axis=0)}


def tolerance(key: Array, rtol: float) -> Tolerance:
    """rtol relative, and a floor of rtol/10 of the array's largest entry (for entries whose sum cancels)."""
    return Tolerance(rtol, rtol * 0.1 * float(np.abs(key).max(initial=0.0)) + 1e-300, digits=12)


def agrees(given: Array, key: Array, rtol: float = EXACT_RTOL) -> bool:
    """The same shape, every entry within ``tolerance``."""
    return given.shape == key.shape and tolerance(key, rtol).all_close(given, key)


def derivative_mistake(e: Exact, net: Net, grads: dict[str, Array]) -> str | None:
    """The wrong derivative of f or g that reproduces every given gradient, in words, or None."""
    if not all(k in grads for k in GRADS) or not (net.f.elementwise and net.g.elementwise):
        return None
    f_true = net.f.derivative(e.z1, e.z2)
    y_hat = e.values["y_hat"]
    g_true = net.g.derivative(e.z3, y_hat)
    dJdy = e.values["dJdy_hat"]
    trials = [(f"∂z2/∂z1 is {what}", chain(e, dJdy, np.asarray(d(e.z1, e.z2), float), g_true))
              for what, d in wrong_derivatives(net.f.name, net.f.scale)]
    trials += [(f"∂ŷ/∂z3 is {what}", chain(e, dJdy, f_true, np.asarray(d(e.z3, y_hat), float)))
               for what, d in wrong_derivatives(net.g.name, net.g.scale)]
    if net.f != net.g and net.f.elementwise:  # one layer's derivative used for the other's
        g_as_f = np.asarray(net.f.derivative(e.z3, net.f(e.z3)), float)
        f_as_g = np.asarray(net.g.derivative(e.z1, net.g(e.z1)), float) if net.g.elementwise else None
        trials.append((f"∂ŷ/∂z3 is f′(z3): the hidden layer's derivative ({net.f.name}) used for g ({net.g.name})",
                       chain(e, dJdy, f_true, g_as_f)))
        if f_as_g is not None:
            trials.append((f"∂z2/∂z1 is g′(z1): the output's derivative ({net.g.name}) used for f ({net.f.name})",
                           chain(e, dJdy, f_as_g, g_true)))
    if net.f == net.g:  # one helper for both derivatives, wrong in both places
        trials += [(f"∂z2/∂z1 and ∂ŷ/∂z3 are {what}", chain(e, dJdy, np.asarray(d(e.z1, e.z2), float),
                                                         np.asarray(d(e.z3, y_hat), float)))
                   for what, d in wrong_derivatives(net.f.name, net.f.scale)]
    for what, wrong in trials:
        truth_differs = any(not agrees(wrong[k], e.values[k]) for k in GRADS)
        if truth_differs and all(agrees(grads[k], wrong[k]) for k in GRADS):
            return what
    return None


def judge(e: Exact, net: Net, given: dict[str, Given | None], errors: dict[str, str]) -> dict[str, Verdict]:
    """A verdict on every quantity given (those the code did not produce: missing, or the error it raised)."""
    B, K = e.values["y_hat"].shape
    out: dict[str, Verdict] = {}
    keys = {QUANTITIES[q]: v for q, v in e.values.items()}
    grads = {q: g.value for q in GRADS if (g := given.get(q)) is not None}
    float32 = any(g is not None and g.float32 for g in given.values())  # float32 anywhere upstream rounds all
    wrong_derivative = None
    if any(not agrees(grads[q], e.values[q]) for q in grads):
        wrong_derivative = derivative_mistake(e, net, grads)
    lined_up: dict[str, Array] = {}
    for q in given:
        g = given.get(q)
        if g is None:
            out[q] = Verdict(q, False, "error" if errors else "missing", next(iter(errors.values()), "not produced"))
            continue
        key = e.values[q]
        lined = line_up(Answer(g.value), key)  # a vector as (K,), (1, K) or (K, 1): the course's test broadcasts it
        if lined is None:
            lined = g.value.reshape(key.shape) if g.value.ndim == 1 and g.value.size == key.size else g.value
        lined_up[q] = lined
        if agrees(lined, key):
            out[q] = Verdict(q, True, "exact", "exact")
        elif float32 and agrees(lined, key, FLOAT32_RTOL):
            out[q] = Verdict(q, True, "float32", "right to float32's precision (the code computes in float32)")
        elif wrong_derivative is not None and q in GRADS:
            out[q] = Verdict(q, False, "derivative", wrong_derivative)
        elif q == "dJdy_hat" and net.g.elementwise and agrees(lined, key * net.g.derivative(e.z3, e.values["y_hat"])):
            out[q] = Verdict(q, False, "derivative", "∂J/∂ŷ is ∂J/∂z3 = ∂J/∂ŷ · g′(z3): g′ folded into the loss's "
                             "gradient, where backward applies it again")
        else:
            m = mark(QUANTITIES[q], Answer(lined), keys, tolerance(key, EXACT_RTOL), net, B, K)
            out[q] = Verdict(q, False, m.kind, m.feedback)
    wrong = {QUANTITIES[q]: lined_up[q] if not out[q].passed else None for q in GRADS if q in lined_up}
    if len(wrong) == len(GRADIENTS) and wrong_derivative is None:
        for item, m in all_four(wrong, keys, EXACT_RTOL, net, B, K, upstream=False).items():
            q = f"dJd{GRADIENTS[item]}"
            out[q] = Verdict(q, False, m.kind, m.feedback)
    return out


def in_cache(cache: dict[str, Array], e: Exact) -> dict[str, list[str]]:
    """For z1, z2 and z3: the names of the student's cache entries that hold exactly it (none: [])."""
    truth = {"z1": e.z1, "z2": e.z2, "z3": e.z3}
    return {z: sorted(k for k, v in cache.items()
                      if v.size == t.size and agrees(v.reshape(t.shape), t, FLOAT32_RTOL))  # float32 code's too
            for z, t in truth.items()}


def course_passes(course: dict[str, Given | None], e: Exact) -> bool:
    """The course's own test on the gradients of its pipeline (their loss feeding their backward):
    ‖yours − autograd‖₂ < 1e-3 for each of the four."""
    for q in GRADS:
        g = course.get(q)
        if g is None:
            return False
        try:  # as the course's test computes it: broadcasting, so a (1, K) bias row compares with (K,)
            difference = g.value - e.values[q]
        except ValueError:
            return False
        if difference.shape != np.broadcast_shapes(e.values[q].shape, difference.shape) or \
                not float(np.linalg.norm(difference)) < COURSE_NORM:
            return False
    return True
