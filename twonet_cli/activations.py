"""Activations f and output functions g: each value written beside its derivative.

Every function takes a batch ``z`` of shape (B, d) and works for float32, float64 and
complex128 (the complex step of the gradient check): branches test ``z.real`` and the
stable forms never call ``exp`` on a number with positive real part, so logits of
±1e4 give finite values with no numpy warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]

ActivationName = Literal["identity", "relu", "leaky_relu", "tanh", "sigmoid", "softplus", "softmax"]
ELEMENTWISE: tuple[str, ...] = ("identity", "relu", "leaky_relu", "tanh", "sigmoid", "softplus")


def _exp_neg_abs(z: Array) -> tuple[Array, Array]:
    """(z ≥ 0, exp(−|z|)) with |·| taken on the real part, so it is ≤ 1 and never overflows."""
    pos = z.real >= 0
    return pos, np.exp(np.where(pos, -z, z))


def sigmoid(z: Array) -> Array:
    """σ(z) = 1 / (1 + e⁻ᶻ), evaluated as e^{z}/(1 + e^{z}) for z < 0."""
    pos, e = _exp_neg_abs(z)
    return np.where(pos, 1 / (1 + e), e / (1 + e))


def softplus(z: Array) -> Array:
    """log(1 + eᶻ) = max(z, 0) + log1p(e^{−|z|})."""
    pos, e = _exp_neg_abs(z)
    return np.where(pos, z, 0) + np.log1p(e)


def logsumexp(z: Array) -> Array:
    """log Σⱼ exp(zⱼ) along the last axis, shifted by the largest real part: shape (B,)."""
    shift = z.real.max(axis=-1, keepdims=True)
    return shift[..., 0] + np.log(np.exp(z - shift).sum(axis=-1))


def _real_dtype(z: Array) -> Any:
    return np.zeros(0, dtype=z.dtype).real.dtype


@dataclass(frozen=True)
class Activation:
    """f or g, chosen by name; ``scale`` is ReLU's c in c·max(0, z), ``slope`` leaky ReLU's."""

    name: ActivationName
    scale: float = 1.0
    slope: float = 0.01

    @property
    def elementwise(self) -> bool:
        """True when the Jacobian is diagonal (every function but softmax)."""
        return self.name != "softmax"

    @property
    def has_kink(self) -> bool:
        """True where the derivative jumps at z = 0 (finite differences are no reference there)."""
        return self.name in ("relu", "leaky_relu")

    @property
    def lipschitz(self) -> float:
        """The largest |slope| of an elementwise function: bounds how far a step can move its output."""
        return {"relu": abs(self.scale), "leaky_relu": max(1.0, self.slope), "sigmoid": 0.25}.get(self.name, 1.0)

    def __call__(self, z: Array) -> Array:
        """The value a = f(z), shape of z."""
        match self.name:
            case "identity":
                return z
            case "relu":  # c·max(0, z)
                return np.where(z.real > 0, self.scale * z, 0)
            case "leaky_relu":  # z for z > 0, slope·z otherwise
                return np.where(z.real > 0, z, self.slope * z)
            case "tanh":
                return np.tanh(z)
            case "sigmoid":
                return sigmoid(z)
            case "softplus":
                return softplus(z)
            case "softmax":  # exp(z − max) / Σ exp(z − max)
                e = np.exp(z - z.real.max(axis=-1, keepdims=True))
                return e / e.sum(axis=-1, keepdims=True)
        raise ValueError(self.name)  # unreachable: name is validated by the config

    def derivative(self, z: Array, a: Array) -> Array:
        """The diagonal of ∂a/∂z for an elementwise function, given z and a = f(z)."""
        one = _real_dtype(z).type(1)
        match self.name:
            case "identity":  # I
                return np.ones_like(z.real)
            case "relu":  # c·[z > 0]; 0 at the kink, as PyTorch
                return np.where(z.real > 0, one * self.scale, 0 * one)
            case "leaky_relu":  # [z > 0] + slope·[z ≤ 0]
                return np.where(z.real > 0, one, one * self.slope)
            case "tanh":  # 1 − a², computed as 4e/(1 + e)² with e = exp(−2|z|): no cancellation as |a| → 1
                _, e = _exp_neg_abs(2 * z)
                return 4 * e / (1 + e) ** 2
            case "sigmoid":  # a (1 − a), computed as e/(1 + e)² with e = exp(−|z|): no cancellation as a → 1
                _, e = _exp_neg_abs(z)
                return e / (1 + e) ** 2
            case "softplus":  # σ(z)
                return sigmoid(z)
        raise ValueError(f"{self.name} has no diagonal Jacobian")

    def forward_into(self, z: Array, out: Array) -> None:
        """out[...] = f(z) for an elementwise f, in place where numpy allows (training's fast path)."""
        match self.name:
            case "relu":  # c·max(0, z)
                np.maximum(z, 0, out=out)
                if self.scale != 1:
                    out *= self.scale
            case "tanh":
                np.tanh(z, out=out)
            case "identity":
                np.copyto(out, z)
            case _:
                np.copyto(out, self(z))

    def backward_into(self, z: Array, a: Array, upstream: Array, scratch: Array) -> None:
        """upstream *= f'(z) in place, with ``scratch`` (shape of z) as the only work space."""
        match self.name:
            case "relu":  # c·[z > 0]
                np.greater(z, 0, out=scratch)
                if self.scale != 1:
                    scratch *= self.scale
            case "tanh":  # 1 − a²
                np.multiply(a, a, out=scratch)
                np.subtract(1, scratch, out=scratch)
            case "sigmoid":  # a (1 − a)
                np.subtract(1, a, out=scratch)
                scratch *= a
            case "identity":
                return
            case _:
                np.copyto(scratch, self.derivative(z, a))
        upstream *= scratch

    def jacobian(self, z: Array, a: Array) -> Array:
        """Per-sample ∂a/∂z as full matrices, shape (B, d, d)."""
        eye = np.eye(z.shape[-1], dtype=a.dtype)
        if self.name == "softmax":  # diag(a) − a aᵀ
            return a[:, :, None] * eye - a[:, :, None] * a[:, None, :]
        return self.derivative(z, a)[:, :, None] * eye

    def vjp(self, z: Array, a: Array, upstream: Array) -> Array:
        """upstream · ∂a/∂z for each row: (B, d) → (B, d), without forming the Jacobian."""
        if self.name == "softmax":  # u (diag(a) − a aᵀ) = a ⊙ (u − ⟨u, a⟩)
            return a * (upstream - (upstream * a).sum(axis=-1, keepdims=True))
        return upstream * self.derivative(z, a)

    def label(self) -> str:
        """Short human name, e.g. '5·ReLU'."""
        match self.name:
            case "relu":
                return "ReLU" if self.scale == 1 else f"{self.scale:g}·ReLU"
            case "leaky_relu":
                return f"LeakyReLU({self.slope:g})"
            case "sigmoid":
                return "σ"
            case "softmax":
                return "softmax"
        return self.name

    def formula(self, out: str, inp: str, sym: str) -> str:
        """The Jacobian's entries as text, e.g. 'Mᵢᵢ = 5·[z1ᵢ > 0]' for ``sym='M'``."""
        d = f"{sym}ᵢᵢ ="
        match self.name:
            case "identity":
                return f"{sym} = I"
            case "relu":
                c = "" if self.scale == 1 else f"{self.scale:g}·"
                return f"{d} {c}[{inp}ᵢ > 0]"
            case "leaky_relu":
                return f"{d} 1 if {inp}ᵢ > 0 else {self.slope:g}"
            case "tanh":
                return f"{d} 1 − {out}ᵢ²"
            case "sigmoid":
                return f"{d} {out}ᵢ (1 − {out}ᵢ)"
            case "softplus":
                return f"{d} σ({inp}ᵢ)"
        return f"{sym} = diag({out}) − {out} {out}ᵀ"
