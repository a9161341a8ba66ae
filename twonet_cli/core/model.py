"""The two-layer network of the exercise (docs/exercise.md), batched, in pure numpy.

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
from typing import Any, Literal, TypeVar

import numpy as np

from .activations import Activation, Array
from .losses import Loss

PARAM_NAMES = ("W1", "b1", "W2", "b2")
# each parameter's gradient for one sample, as the chain rule writes it (a batch sums them over samples)
CHAIN_RULE = {"W1": "(∂ℓ/∂z1)ᵀ xᵀ", "b1": "∂ℓ/∂z1", "W2": "(∂ℓ/∂z3)ᵀ z2ᵀ", "b2": "∂ℓ/∂z3"}
InitScheme = Literal["torch", "normal", "xavier", "he"]
Shape = tuple[int, ...]
P = TypeVar("P", bound="Params")


@dataclass(frozen=True)
class Params:
    """W1 (m, n), b1 (m,), W2 (K, m), b2 (K,)."""

    W1: Array
    b1: Array
    W2: Array
    b2: Array

    def items(self) -> list[tuple[str, Array]]:
        """(name, array) pairs in the order W1, b1, W2, b2."""
        return [(f.name, getattr(self, f.name)) for f in fields(self)]

    def astype(self: P, dtype: Any) -> P:
        """A copy in ``dtype`` (of the same class: Params or Grads)."""
        return type(self)(*(np.array(a, dtype=dtype) for _, a in self.items()))  # np.array copies; asarray may not

    @property
    def shape(self) -> tuple[int, int, int]:
        """(n, m, K)."""
        m, n = self.W1.shape
        return n, m, self.W2.shape[0]


def param_shapes(n: int, m: int, K: int) -> dict[str, Shape]:
    """The shape of each parameter of an n → m → K network, in nn.Linear's (out, in) layout."""
    return {"W1": (m, n), "b1": (m,), "W2": (K, m), "b2": (K,)}


def shape_mismatch(arrays: dict[str, Array], n: int, m: int, K: int) -> tuple[str, Shape, Shape] | None:
    """The first parameter whose array does not fit an n → m → K network: (name, its shape, the
    shape needed), or None when all four fit."""
    for name, want in param_shapes(n, m, K).items():
        got = np.shape(arrays[name])
        if got != want:
            return name, got, want
    return None


class Grads(Params):
    """∂ℓ/∂θ for θ in W1, b1, W2, b2, each the shape of its parameter."""


@dataclass(slots=True)
class Cache:
    """Everything forward computed, by the exercise's names: x (B, n), z1, z2 (B, m), z3, y_hat (B, K).

    Training reuses one as buffers, step after step: forward writes each intermediate into it, and
    sets its x to the step's batch (the one field it replaces; no object is made per step). Training
    also keeps read-only ``zeros`` (B, m) there, for ReLU to compare against (a speed path)."""

    x: Array
    z1: Array
    z2: Array
    z3: Array
    y_hat: Array
    zeros: Array | None = None

    @classmethod
    def empty(cls, x: Array, m: int, K: int, dtype: Any, g: Activation | None = None, zeros: bool = False) -> Cache:
        """Buffers for forward on the batch x: z1, z2 (B, m), z3, ŷ (B, K), uninitialised.

        For an identity ``g`` (if given), ŷ shares z3's buffer: it is z3. With ``zeros``, read-only
        zeros (B, m) for ReLU (numpy's maximum runs its vector loop against an array, not a scalar)."""
        B = x.shape[0]
        z1, z2, z3 = np.empty((B, m), dtype), np.empty((B, m), dtype), np.empty((B, K), dtype)
        kept = None
        if zeros:
            kept = np.zeros((B, m), dtype)
            kept.flags.writeable = False
        return cls(x, z1, z2, z3, z3 if g is not None and g.name == "identity" else np.empty((B, K), dtype), kept)

    def rows(self, b: int) -> Cache:
        """Views of the first ``b`` rows (for a shorter last batch)."""
        return Cache(self.x[:b], self.z1[:b], self.z2[:b], self.z3[:b], self.y_hat[:b],
                     None if self.zeros is None else self.zeros[:b])


@dataclass(frozen=True, slots=True)
class Backprop:
    """The backward chain, one row per sample, each a derivative of the reduced loss."""

    dloss_dz3: Array  # (B, K)
    dloss_dz2: Array  # (B, m)
    dloss_dz1: Array  # (B, m)
    grads: Grads
    ones: Array  # (B,) of 1: a sum over the batch as the product 1ᵀ A (faster than a reduction)

    @classmethod
    def empty(cls, B: int, grads: Grads) -> Backprop:
        """Buffers for backward on B rows, writing the parameter gradients into ``grads``."""
        _, m, K = grads.shape
        dtype = grads.b1.dtype
        return cls(np.empty((B, K), dtype), np.empty((B, m), dtype), np.empty((B, m), dtype), grads,
                   np.ones(B, dtype))

    def rows(self, b: int) -> Backprop:
        """Views of the first ``b`` rows (the gradients stay whole)."""
        return Backprop(self.dloss_dz3[:b], self.dloss_dz2[:b], self.dloss_dz1[:b], self.grads, self.ones[:b])


def empty_grads(n: int, m: int, K: int, dtype: Any) -> Grads:
    """Uninitialised ∂ℓ/∂θ buffers. ∂ℓ/∂W1 and ∂ℓ/∂W2 are stored transposed (Fortran order), so
    that backward writes xᵀ ∂ℓ/∂z1 and z2ᵀ ∂ℓ/∂z3 straight into them: the products BLAS runs fastest."""
    return Grads(np.empty((n, m), dtype=dtype).T, np.empty(m, dtype=dtype),
                 np.empty((m, K), dtype=dtype).T, np.empty(K, dtype=dtype))


@dataclass(frozen=True)
class Net:
    """The choices that make a setup: hidden activation f, output function g, loss."""

    f: Activation
    g: Activation
    loss: Loss


def forward(net: Net, p: Params, x: Array, out: Cache | None = None, output: bool = True) -> Cache:
    """Run x (B, n) through the network; returns every intermediate.

    With ``out`` (buffers from ``Cache.empty``, as training passes) nothing is allocated: each
    intermediate is written into its buffer, and its x becomes this x, taken as it is (not copied).
    Without ``output``, ŷ is not computed (a fused loss needs only z3: the training step)."""
    if out is None:
        c = Cache.empty(x, p.b1.shape[0], p.b2.shape[0], np.result_type(x, p.W1))
    else:
        c = out
        c.x = x
    z1 = np.dot(x, p.W1.T, out=c.z1)  # z1 = x W1ᵀ + b1      Linear₁
    z1 += p.b1
    net.f(z1, out=c.z2, zeros=c.zeros)  # z2 = f(z1)
    z3 = np.dot(c.z2, p.W2.T, out=c.z3)  # z3 = z2 W2ᵀ + b2   Linear₂
    z3 += p.b2
    if output:
        net.g(z3, out=c.y_hat)  # ŷ = g(z3)
    return c


def loss(net: Net, c: Cache, y: Array) -> Any:
    """The reduced batch loss ℓ for targets y (B, K)."""
    return net.loss.value(net.g, c.z3, y, c.y_hat)


def backward(net: Net, p: Params, c: Cache, y: Array, out: Backprop | None = None) -> Backprop:
    """∂ℓ/∂θ by the chain rule of the exercise (docs/exercise.md), read bottom-up from ∂ℓ/∂z3;
    batch gradients are sums over samples. With ``out`` (``Backprop.empty``) nothing is allocated."""
    b = Backprop.empty(len(c.x), empty_grads(*p.shape, c.z1.dtype)) if out is None else out
    net.loss.dloss_dz3(net.g, c.z3, c.y_hat, y, out=b.dloss_dz3)  # ∂ℓ/∂z3 = ∂ℓ/∂ŷ · ∂ŷ/∂z3
    return backward_from_z3(net, p, c, b)


def backward_from_z3(net: Net, p: Params, c: Cache, b: Backprop) -> Backprop:
    """The chain below z3: from ∂ℓ/∂z3 in ``b.dloss_dz3`` to every ∂ℓ/∂θ, written into ``b``."""
    d, dz3, dz2, dz1 = b.grads, b.dloss_dz3, b.dloss_dz2, b.dloss_dz1
    np.dot(c.z2.T, dz3, out=d.W2.T)  # ∂ℓ/∂W2 = Σ (∂ℓ/∂z3)ᵀ z2ᵀ, written as its transpose z2ᵀ ∂ℓ/∂z3
    np.dot(b.ones, dz3, out=d.b2)  # ∂ℓ/∂b2 = Σ ∂ℓ/∂z3
    np.dot(dz3, p.W2, out=dz2)  # ∂ℓ/∂z2 = ∂ℓ/∂z3 · W2
    net.f.derivative(c.z1, c.z2, out=dz1)  # ∂z2/∂z1 = diag f′(z1): f is elementwise
    dz1 *= dz2  # ∂ℓ/∂z1 = ∂ℓ/∂z2 · ∂z2/∂z1
    np.dot(c.x.T, dz1, out=d.W1.T)  # ∂ℓ/∂W1 = Σ (∂ℓ/∂z1)ᵀ xᵀ, written as its transpose xᵀ ∂ℓ/∂z1
    np.dot(b.ones, dz1, out=d.b1)  # ∂ℓ/∂b1 = Σ ∂ℓ/∂z1
    return b


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
