"""The two-layer network of SPEC.md, batched, in pure numpy.

    z1 = x W1ᵀ + b1      (B, m)      Linear₁
    z2 = f(z1)           (B, m)
    z3 = z2 W2ᵀ + b2     (B, K)      Linear₂
    ŷ  = g(z3)           (B, K)
    ℓ  = loss(ŷ, y)      scalar, reduced over the batch

Weights have ``torch.nn.Linear``'s (out_features, in_features) layout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np

from .activations import Activation, Array
from .losses import Loss

PARAM_NAMES = ("W1", "b1", "W2", "b2")
InitScheme = Literal["torch", "normal", "xavier", "he"]


@dataclass(frozen=True)
class Params:
    """W1 (m, n), b1 (m,), W2 (K, m), b2 (K,)."""

    W1: Array
    b1: Array
    W2: Array
    b2: Array

    def items(self) -> list[tuple[str, Array]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)]

    def astype(self, dtype: Any) -> Params:
        return type(self)(*(np.asarray(a, dtype=dtype) for _, a in self.items()))

    @property
    def shape(self) -> tuple[int, int, int]:
        """(n, m, K)."""
        m, n = self.W1.shape
        return n, m, self.W2.shape[0]


class Grads(Params):
    """∂ℓ/∂θ for θ in W1, b1, W2, b2, each the shape of its parameter."""


@dataclass(frozen=True)
class Cache:
    """Everything forward computed, by the exercise's names: x (B, n), z1, z2 (B, m), z3, y_hat (B, K)."""

    x: Array
    z1: Array
    z2: Array
    z3: Array
    y_hat: Array


@dataclass(frozen=True)
class Backprop:
    """The backward chain, one row per sample, each a derivative of the reduced loss."""

    dloss_dz3: Array  # (B, K)
    dloss_dz2: Array  # (B, m)
    dloss_dz1: Array  # (B, m)
    grads: Grads


@dataclass(frozen=True)
class Jacobians:
    """The local Jacobians of SPEC.md, per sample."""

    dz2_dz1: Array  # (B, m, m), diagonal
    dyhat_dz3: Array  # (B, K, K), diagonal unless g is softmax
    dloss_dyhat: Array  # (B, K)


@dataclass(frozen=True)
class Net:
    """The choices that make a setup: hidden activation f, output function g, loss."""

    f: Activation
    g: Activation
    loss: Loss


def forward(net: Net, p: Params, x: Array) -> Cache:
    """Run x (B, n) through the network; returns every intermediate."""
    z1 = x @ p.W1.T + p.b1  # Linear₁
    z2 = net.f(z1)
    z3 = z2 @ p.W2.T + p.b2  # Linear₂
    return Cache(x, z1, z2, z3, net.g(z3))


def loss(net: Net, c: Cache, y: Array) -> Any:
    """The reduced batch loss ℓ for targets y (B, K)."""
    return net.loss.value(net.g, c.z3, y, c.y_hat)


def backward(net: Net, p: Params, c: Cache, y: Array) -> Backprop:
    """The chain rule of SPEC.md, read bottom-up; batch gradients are sums over samples."""
    dz3 = net.loss.dloss_dz3(net.g, c.z3, c.y_hat, y)  # ∂ℓ/∂z3 = ∂ℓ/∂ŷ · ∂ŷ/∂z3
    dW2 = dz3.T @ c.z2  # ∂ℓ/∂W2 = Σ (∂ℓ/∂z3)ᵀ z2ᵀ
    db2 = dz3.sum(axis=0)  # ∂ℓ/∂b2 = Σ ∂ℓ/∂z3
    dz2 = dz3 @ p.W2  # ∂ℓ/∂z2 = ∂ℓ/∂z3 · W2
    dz1 = net.f.vjp(c.z1, c.z2, dz2)  # ∂ℓ/∂z1 = ∂ℓ/∂z2 · ∂z2/∂z1
    dW1 = dz1.T @ c.x  # ∂ℓ/∂W1 = Σ (∂ℓ/∂z1)ᵀ xᵀ
    db1 = dz1.sum(axis=0)  # ∂ℓ/∂b1 = Σ ∂ℓ/∂z1
    return Backprop(dz3, dz2, dz1, Grads(dW1, db1, dW2, db2))


def jacobians(net: Net, c: Cache, y: Array) -> Jacobians:
    """∂z2/∂z1, ∂ŷ/∂z3 and ∂ℓ/∂ŷ for every sample, as full arrays."""
    return Jacobians(
        dz2_dz1=net.f.jacobian(c.z1, c.z2),
        dyhat_dz3=net.g.jacobian(c.z3, c.y_hat),
        dloss_dyhat=net.loss.dloss_dyhat(c.y_hat, y),
    )


def init_params(
    n: int,
    m: int,
    K: int,
    rng: np.random.Generator,
    scheme: InitScheme = "torch",
    std: float = 0.1,
    zero_bias: bool = False,
) -> Params:
    """Random parameters of a n → m → K network.

    ``torch``: nn.Linear's default, W, b ~ U(±1/√fan_in). ``normal``: W ~ N(0, std²).
    ``xavier``: W ~ U(±√(6/(fan_in + fan_out))). ``he``: W ~ N(0, 2/fan_in).
    Biases are U(±1/√fan_in) as in nn.Linear, or zeros with ``zero_bias``.
    """

    def layer(fan_out: int, fan_in: int) -> tuple[Array, Array]:
        bound = 1 / math.sqrt(fan_in)
        match scheme:
            case "torch":
                W = rng.uniform(-bound, bound, (fan_out, fan_in))
            case "normal":
                W = rng.normal(0.0, std, (fan_out, fan_in))
            case "xavier":
                a = math.sqrt(6 / (fan_in + fan_out))
                W = rng.uniform(-a, a, (fan_out, fan_in))
            case "he":
                W = rng.normal(0.0, math.sqrt(2 / fan_in), (fan_out, fan_in))
        b = np.zeros(fan_out) if zero_bias else rng.uniform(-bound, bound, fan_out)
        return W, b

    W1, b1 = layer(m, n)
    W2, b2 = layer(K, m)
    return Params(W1, b1, W2, b2)
