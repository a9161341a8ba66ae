"""An independent reference: docs/exercise.md's formulas written out per sample, with explicit matrices.

Nothing here imports twonet's core. It is deliberately naive (loops over samples, full Jacobian
matrices, textbook formulas without stability tricks), valid for the moderate values the tests
use, and works on complex numbers so that the complex step can differentiate it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = Any
ELEMENTWISE = ("identity", "relu", "leaky_relu", "tanh", "sigmoid", "softplus")
# Every f × g × loss that docs/exercise.md allows: any g with MSE, σ with BCE, softmax with CE.
OUTPUTS = [(g, "mse") for g in (*ELEMENTWISE, "softmax")] + [("sigmoid", "bce"), ("softmax", "cross_entropy")]
SCALE, SLOPE = 5.0, 0.1  # the ReLU scale and leaky slope the tests use


def act(name: str, z: Array) -> Array:
    """f(z) or g(z) for one sample's vector z, by the textbook formula."""
    if name == "identity":
        return z
    if name == "relu":
        return np.array([SCALE * v if v.real > 0 else 0 * v for v in z])
    if name == "leaky_relu":
        return np.array([v if v.real > 0 else SLOPE * v for v in z])
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "softplus":
        return np.log1p(np.exp(z))
    if name == "softmax":
        return np.exp(z) / np.exp(z).sum()
    raise ValueError(name)


def jac(name: str, z: Array, a: Array) -> Array:
    """docs/exercise.md's Jacobian table: ∂a/∂z as a full matrix for one sample."""
    d = len(z)
    if name == "softmax":
        return np.diag(a) - np.outer(a, a)
    diag = {
        "identity": np.ones(d),
        "relu": np.array([SCALE if v.real > 0 else 0.0 for v in z]),  # Mᵢᵢ = c·[z1ᵢ > 0]
        "leaky_relu": np.array([1.0 if v.real > 0 else SLOPE for v in z]),
        # docs/exercise.md's 1 − z2ᵢ² and ŷᵢ(1 − ŷᵢ), written as sech²(z) and σ(z)σ(−z): the same numbers,
        # without the cancellation that 1 − a loses as a → 1 (tests/test_exercise.py checks the
        # literal forms on unsaturated values)
        "tanh": 1 / np.cosh(z) ** 2,
        "sigmoid": 1 / ((1 + np.exp(-z)) * (1 + np.exp(z))),
        "softplus": 1 / (1 + np.exp(-z)),
    }[name]
    return np.diag(diag)


def sample_loss(g: str, loss: str, z3: Array, y: Array) -> Array:
    """The un-reduced loss of one sample, summed over its K outputs, from the logits z3.

    Logs are taken by textbook identities rather than log(ŷ), so that the value keeps its
    digits when ŷ is near 0 or 1 and the complex step through it stays exact:
    log σ(z) = −log1p(e⁻ᶻ), log(1 − σ(z)) = −log1p(eᶻ), log softmax(z) = z − log Σ eᶻ.
    """
    y_hat = act(g, z3)
    if loss == "mse":
        return ((y_hat - y) ** 2).sum()
    if loss == "bce":  # g = σ
        log_p, log_q = -np.log1p(np.exp(-z3)), -np.log1p(np.exp(z3))
        return -(y * log_p + (1 - y) * log_q).sum()
    return -(y * (z3 - np.log(np.exp(z3).sum()))).sum()  # cross-entropy, g = softmax


def divisor(loss: str, reduction: str, B: int, K: int) -> int:
    if reduction == "sum":
        return 1
    return B if loss == "cross_entropy" else B * K


def dloss_dyhat(loss: str, y_hat: Array, y: Array, N: int) -> Array:
    """V, docs/exercise.md's ∂ℓ/∂ŷ row for one sample, divided by the reduction's N."""
    if loss == "mse":
        return 2 * (y_hat - y) / N
    if loss == "bce":
        return ((1 - y) / (1 - y_hat) - y / y_hat) / N
    return -y / y_hat / N


def total_loss(f: str, g: str, loss: str, reduction: str, W1: Array, b1: Array, W2: Array, b2: Array,
               X: Array, Y: Array) -> Array:
    """ℓ for a batch, one sample at a time."""
    B, K = Y.shape
    total = 0
    for x, y in zip(X, Y, strict=True):
        z1 = W1 @ x + b1
        z3 = W2 @ act(f, z1) + b2
        total = total + sample_loss(g, loss, z3, y)
    return total / divisor(loss, reduction, B, K)


def backprop(f: str, g: str, loss: str, reduction: str, W1: Array, b1: Array, W2: Array, b2: Array,
             X: Array, Y: Array) -> dict[str, Any]:
    """docs/exercise.md's backward pass with explicit Jacobian matrices, summed over samples.

    Beside each derivative, ``bound[name]`` runs the same chain on the absolute values of every
    term (|V|·|P|, |W2|, |M|, ...): the componentwise scale that rounding errors are relative to.
    A derivative that is small only because large terms cancel is compared against that scale.
    """
    B, K = Y.shape
    N = divisor(loss, reduction, B, K)
    names = ("W1", "b1", "W2", "b2")
    out: dict[str, Any] = {k: 0 for k in names}
    bound: dict[str, Any] = {k: 0 for k in names}
    rows: dict[str, list[Array]] = {k: [] for k in ("M", "P", "V", "dz3", "dz2", "dz1", "z1", "z2", "z3", "y_hat")}
    brows: dict[str, list[Array]] = {k: [] for k in ("M", "P", "V", "dz3", "dz2", "dz1")}
    for x, y in zip(X, Y, strict=True):
        z1 = W1 @ x + b1
        z2 = act(f, z1)
        z3 = W2 @ z2 + b2
        y_hat = act(g, z3)
        M, P, V = jac(f, z1, z2), jac(g, z3, y_hat), dloss_dyhat(loss, y_hat, y, N)
        dz3 = V @ P  # ∂ℓ/∂z3 = ∂ℓ/∂ŷ · ∂ŷ/∂z3
        dz2 = dz3 @ W2  # ∂ℓ/∂z2 = ∂ℓ/∂z3 · W2
        dz1 = dz2 @ M  # ∂ℓ/∂z1 = ∂ℓ/∂z2 · ∂z2/∂z1
        out["W2"] = out["W2"] + np.outer(dz3, z2)
        out["b2"] = out["b2"] + dz3
        out["W1"] = out["W1"] + np.outer(dz1, x)
        out["b1"] = out["b1"] + dz1
        for k, v in dict(M=M, P=P, V=V, dz3=dz3, dz2=dz2, dz1=dz1, z1=z1, z2=z2, z3=z3, y_hat=y_hat).items():
            rows[k].append(v)
        # the same chain on magnitudes: |V| from its terms, softmax's P from |diag(ŷ)| + |ŷ ŷᵀ|
        V_abs = _dloss_dyhat_terms(loss, y_hat, y, N)
        P_abs = np.abs(P) if g != "softmax" else np.diag(np.abs(y_hat)) + np.outer(np.abs(y_hat), np.abs(y_hat))
        V_cond = V_abs * (1 + 1 / np.abs(1 - y_hat) + 1 / np.abs(y_hat)) if loss == "bce" else V_abs
        a3 = V_cond @ P_abs + (np.abs(y_hat) + np.abs(y)) / N  # the chain's terms, or the fused (ŷ − y)/N
        a2 = a3 @ np.abs(W2)
        a1 = a2 @ np.abs(M)
        bound["W2"] = bound["W2"] + np.outer(a3, np.abs(z2))
        bound["b2"] = bound["b2"] + a3
        bound["W1"] = bound["W1"] + np.outer(a1, np.abs(x))
        bound["b1"] = bound["b1"] + a1
        for k, v in dict(M=np.abs(M), P=P_abs, V=V_cond, dz3=a3, dz2=a2, dz1=a1).items():
            brows[k].append(v)
    out.update({k: np.array(v) for k, v in rows.items()})
    out["bound"] = {**bound, **{k: np.array(v) for k, v in brows.items()}}
    out["loss"] = total_loss(f, g, loss, reduction, W1, b1, W2, b2, X, Y)
    # ℓ = logsumexp(z3) − y·z3 (and softplus(z3) − y z3) cancels when the fit is good
    out["bound"]["loss"] = sum(np.abs(z).sum() * 2 for z in out["z3"]) / N + abs(out["loss"])
    return out


def _dloss_dyhat_terms(loss: str, y_hat: Array, y: Array, N: int) -> Array:
    """|V| summed term by term, the scale of V's rounding error."""
    if loss == "mse":
        return 2 * (np.abs(y_hat) + np.abs(y)) / N
    if loss == "bce":
        return (np.abs(1 - y) / np.abs(1 - y_hat) + np.abs(y) / np.abs(y_hat)) / N
    return np.abs(y) / np.abs(y_hat) / N


def complex_step(fn: Any, theta: Array, h: float = 1e-30) -> Array:
    """∂fn/∂θ for every entry of θ by the complex step Im fn(θ + ih)/h (no cancellation error)."""
    grad = np.zeros(theta.shape)
    for idx in np.ndindex(theta.shape):
        t = theta.astype(complex)
        t[idx] += 1j * h
        grad[idx] = fn(t).imag / h
    return grad


def central_difference(fn: Any, theta: Array, h: float = 1e-6) -> Array:
    """∂fn/∂θ by (fn(θ + h) − fn(θ − h)) / 2h for every entry (error O(h²) + O(ε/h))."""
    grad = np.zeros(theta.shape)
    for idx in np.ndindex(theta.shape):
        up, down = theta.copy(), theta.copy()
        up[idx] += h
        down[idx] -= h
        grad[idx] = (fn(up) - fn(down)) / (2 * h)
    return grad
