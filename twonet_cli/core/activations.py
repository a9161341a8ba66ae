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


def sigmoid(z: Array, out: Array | None = None) -> Array:
    """σ(z) = 1 / (1 + e⁻ᶻ), evaluated as e^{z}/(1 + e^{z}) for z < 0; into ``out`` if given."""
    pos, e = _exp_neg_abs(z)
    return np.divide(np.where(pos, 1, e), 1 + e, out=out)


def softplus(z: Array) -> Array:
    """log(1 + eᶻ) = max(z, 0) + log1p(e^{−|z|}) (numpy's logaddexp(0, z) for real z: the same formula)."""
    if z.dtype.kind != "c":
        return np.logaddexp(0, z)
    pos, e = _exp_neg_abs(z)
    return np.where(pos, z, 0) + np.log1p(e)


def _bell(z: Array, k: float, out: Array | None) -> Array:
    """e/(1 + e)² with e = exp(−k|z|) for real z, in place in ``out`` if given: σ′(z) for k = 1,
    tanh′(z)/4 for k = 2. The exponent is never positive, so nothing overflows or cancels."""
    e = np.abs(z, out=out)
    e *= -k
    np.exp(e, out=e)
    t = e + 1
    t *= t
    e /= t
    return e


def sigmoid_pair(z: Array) -> tuple[Array, Array]:
    """(σ(z), σ(−z)) from one e = exp(−|z|), each to full relative precision: 1 − σ(z) is never
    formed by a subtraction, so it keeps its digits where σ(z) rounds to 1."""
    pos, e = _exp_neg_abs(z)
    den = 1 + e
    return np.where(pos, 1, e) / den, np.where(pos, e, 1) / den


def logsumexp(z: Array) -> Array:
    """log Σⱼ exp(zⱼ) along the last axis: shape (B,).

    Shifted by the largest (real part) m: m + log Σ exp(z − m). For real z the largest term is
    exactly 1 and the rest is summed alone, m + log1p(Σ others), so a sum barely above 1 keeps
    its digits (the cross-entropy of a confident, correct prediction)."""
    if z.dtype.kind == "c":
        shift = z.real.max(axis=-1, keepdims=True)
        return shift[..., 0] + np.log(np.exp(z - shift).sum(axis=-1))
    _, others, top = _shifted_exp(z)
    return z.reshape(-1)[top].reshape(z.shape[:-1]) + np.log1p(others[..., 0])


def _others(e: Array) -> Array:
    """Σ_{j≠i} eⱼ for every i along the last axis, as prefix plus suffix sums (never a total minus eᵢ)."""
    rest = np.zeros_like(e)
    np.cumsum(e[..., :-1], axis=-1, out=rest[..., 1:])  # Σ_{j<i}
    rest[..., :-1] += np.cumsum(e[..., :0:-1], axis=-1)[..., ::-1]  # + Σ_{j>i}
    return rest


def _softmax_for_complex_step(z: Array) -> Array:
    """softmax(z) as 1/(1 + restᵢ/eᵢ): at z + ih its imaginary part is never a difference of nearly
    equal numbers, as that of exp(z − logsumexp(z)) is where softmaxᵢ → 1."""
    e, _, rest = softmax_parts(z)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = 1 / (1 + rest / e)  # restᵢ/eᵢ overflows only where softmaxᵢ underflows to 0
    return np.where((e == 0) | ~np.isfinite(out), 0, out)


def softmax_parts(z: Array) -> tuple[Array, Array, Array]:
    """(e, S, rest) along the last axis: e = exp(z − max), S = Σ e (kept as (..., 1)), and
    restᵢ = Σ_{j≠i} eⱼ summed without subtraction (prefix plus suffix sums), so that
    1 − softmax(z)ᵢ = restᵢ / S keeps its digits where softmax(z)ᵢ rounds to 1."""
    if z.dtype.kind == "c":  # imaginary parts too must never be differences: prefix plus suffix sums
        e = np.exp(z - z.real.max(axis=-1, keepdims=True))
        return e, e.sum(axis=-1, keepdims=True), _others(e)
    e, others, top = _shifted_exp(z)
    S = others + 1
    rest = S - e  # for j ≠ argmax, eⱼ ≤ 1 ≤ S − eⱼ: the difference keeps its digits (at most half of S is taken)
    rest.reshape(-1)[top] = others.reshape(-1)  # for the largest, Σ of the others, summed directly
    return e, S, rest


def _shifted_exp(z: Array) -> tuple[Array, Array, Array]:
    """(e = exp(z − max), Σ_{j≠argmax} eⱼ (..., 1), flat indices of each row's argmax in e) for real
    z along the last axis; the largest eⱼ is exactly 1, and the others are summed without it."""
    K = z.shape[-1]
    top = z.argmax(axis=-1).reshape(-1)
    top += np.arange(0, top.size * K, K)  # flat index of each row's largest entry
    e = z - z.reshape(-1)[top].reshape(*z.shape[:-1], 1)
    np.exp(e, out=e)
    flat = e.reshape(-1)
    flat[top] = 0.0
    others = e.sum(axis=-1, keepdims=True)
    flat[top] = 1.0
    return e, others, top


_ZEROS = [np.zeros((0, 0))]  # the last zeros _zeros made (training asks for its batch's shape every step)


def _zeros(z: Array) -> Array:
    """A read-only array of zeros shaped as z. ``np.maximum(z, 0)`` broadcasts the scalar in numpy's
    slow strided loop; against contiguous zeros it runs its vector loop (3× faster at 128 × 256).
    A shorter last batch takes the first rows of its full batch's zeros."""
    zeros = _ZEROS[0]
    if zeros.dtype == z.dtype and zeros.shape[1:] == z.shape[1:] and len(zeros) >= len(z):
        return zeros[:len(z)]
    zeros = np.zeros(z.shape, z.dtype)
    zeros.flags.writeable = False
    _ZEROS[0] = zeros
    return zeros


def _copy(value: Any, out: Array | None) -> Array:
    """``value`` written into ``out`` (and ``out`` returned), or ``value`` itself as an array."""
    if out is None:
        return np.asarray(value)
    if out is not value:  # an identity g writes ŷ into z3's own buffer
        np.copyto(out, value)
    return out


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

    def __call__(self, z: Array, out: Array | None = None) -> Array:
        """The value a = f(z), shape of z; written into ``out`` if given (training's buffers)."""
        match self.name:
            case "identity":
                return z if out is None else _copy(z, out)
            case "relu":  # c·max(0, z); a complex step compares real parts, so z = 0 + ih stays flat
                if z.dtype.kind == "c":
                    a = np.multiply(z, z.real > 0, out=out)
                else:  # into training's buffers: against zeros of the batch's shape, kept from step to step
                    a = np.maximum(z, 0 if out is None else _zeros(z), out=out)
                if self.scale != 1:
                    a *= self.scale
                return a
            case "leaky_relu":  # z for z > 0, slope·z otherwise
                return _copy(np.where(z.real > 0, z, self.slope * z), out)
            case "tanh":
                return np.tanh(z, out=out)
            case "sigmoid":
                return sigmoid(z, out)
            case "softplus":
                return _copy(softplus(z), out)
            case "softmax":  # exp(z − max) / Σ exp(z − max)
                if z.dtype.kind == "c":
                    return _copy(_softmax_for_complex_step(z), out)
                e = np.exp(z - z.real.max(axis=-1, keepdims=True), out=out)
                e /= e.sum(axis=-1, keepdims=True)
                return e
        raise ValueError(self.name)  # unreachable: name is validated by the config

    def derivative(self, z: Array, a: Array, out: Array | None = None) -> Array:
        """The diagonal of ∂a/∂z for an elementwise function, given real z and a = f(z); into ``out`` if given.

        (The complex step differentiates values, never this function, so z is real here.)"""
        match self.name:
            case "identity":  # I
                d = np.ones_like(z) if out is None else _copy(1, out)
            case "relu":  # c·[z > 0]; 0 at the kink, as PyTorch
                if self.scale > 0:  # a = c·max(z, 0) ≥ 0, so [z > 0] = sign(a): no bool-to-float cast
                    d = np.sign(a, out=out)
                else:
                    d = np.greater(z, 0, out=np.empty_like(z) if out is None else out)
                if self.scale != 1:
                    d *= self.scale
            case "leaky_relu":  # [z > 0] + slope·[z ≤ 0]
                d = _copy(np.where(z > 0, 1.0, self.slope), out)
            case "tanh":  # 1 − a², computed as 4e/(1 + e)² with e = exp(−2|z|): no cancellation as |a| → 1
                d = _bell(z, 2.0, out)
                d *= 4
            case "sigmoid":  # a (1 − a) = σ(z)·σ(−z), computed as e/(1 + e)² with e = exp(−|z|): exact as a → 1
                d = _bell(z, 1.0, out)
            case "softplus":  # σ(z)
                d = sigmoid(z, out)
            case _:
                raise ValueError(f"{self.name} has no diagonal Jacobian")
        return d

    def vjp(self, z: Array, a: Array, upstream: Array, out: Array | None = None) -> Array:
        """upstream · ∂a/∂z for each row: (B, d) → (B, d), without forming the Jacobian.

        ``out`` (if given) receives the result and must not be ``upstream`` itself."""
        if self.name == "softmax":  # u (diag(a) − a aᵀ) = a ⊙ (u − ⟨u, a⟩)
            # uᵢ − ⟨u, a⟩ = uᵢ(1 − aᵢ) − Σ_{j≠i} uⱼaⱼ, each part without a subtraction (see softmax_parts)
            _, S, rest = softmax_parts(z)
            return np.multiply(a, upstream * rest / S - _others(upstream * a), out=out)
        if self.name == "identity":
            return upstream if out is None else _copy(upstream, out)
        d = self.derivative(z, a, out)
        d *= upstream
        return d

    def spec(self) -> dict[str, str | float]:
        """The function as a machine reads it: its name, and relu's scale or leaky_relu's slope."""
        extra = {"relu": {"scale": self.scale}, "leaky_relu": {"slope": self.slope}}.get(self.name, {})
        return {"name": self.name, **extra}

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
