"""Activations f and output functions g: each value written beside its derivative.

Every function takes a batch ``z`` of shape (B, d) and works for float32, float64 and
complex128 (the complex step of the gradient check): branches test ``z.real`` and the
stable forms never call ``exp`` on a number with positive real part, so logits of
±1e4 give finite values with no numpy warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
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


def _copy(value: Any, out: Array | None) -> Array:
    """``value`` written into ``out`` (and ``out`` returned), or ``value`` itself as an array."""
    if out is None:
        return np.asarray(value)
    if out is not value:  # an identity g writes ŷ into z3's own buffer
        np.copyto(out, value)
    return out


# One class per function: its value and its derivative side by side, as CS231n's layers.py pairs a
# layer's forward and backward. ``f`` is the configured Activation (ReLU's scale, leaky ReLU's slope);
# ``out`` a buffer to write into (training's). Values take complex z too (the complex step of the
# gradient check); derivatives are of real z only (the complex step differentiates values).


class Function:
    """What each function class below states of itself (its defaults here)."""

    elementwise = True  # a diagonal Jacobian (all but softmax)
    kink = False  # the derivative jumps at z = 0
    saturates = False  # f′ vanishes for large |z| (σ, tanh)
    can_die = False  # a unit can stop passing gradient on every row (ReLU-like)
    lipschitz = 1.0  # the largest |f′| (ReLU's and leaky ReLU's depend on their parameter)


class Identity(Function):
    """f(z) = z;  f′(z) = 1."""

    label = "identity"

    @staticmethod
    def value(f: Activation, z: Array, out: Array | None, zeros: Array | None) -> Array:
        """z."""
        return z if out is None else _copy(z, out)

    @staticmethod
    def derivative(f: Activation, z: Array, a: Array, out: Array | None) -> Array:
        """1."""
        return np.ones_like(z) if out is None else _copy(1, out)


class ReLU(Function):
    """f(z) = c·max(0, z);  f′(z) = c·[z > 0], 0 at the kink as in PyTorch."""

    kink = True
    can_die = True  # a unit with z1 ≤ 0 on every row passes no gradient

    @staticmethod
    def label(f: Activation) -> str:
        """'ReLU', or 'c·ReLU'."""
        return "ReLU" if f.scale == 1 else f"{f.scale:g}·ReLU"

    @staticmethod
    def value(f: Activation, z: Array, out: Array | None, zeros: Array | None) -> Array:
        """c·max(0, z)."""
        if z.dtype.kind == "c":  # a complex step compares real parts, so z = 0 + ih stays flat
            a = np.multiply(z, z.real > 0, out=out)
        else:  # against contiguous zeros (training keeps some) numpy runs its vector loop, not the scalar's
            a = np.maximum(z, 0 if zeros is None else zeros[:len(z)], out=out)
        if f.scale != 1:
            a *= f.scale
        return a

    @staticmethod
    def derivative(f: Activation, z: Array, a: Array, out: Array | None) -> Array:
        """c·[z > 0]."""
        # for c > 0, a = c·max(z, 0) ≥ 0, so [z > 0] = sign(a): no bool-to-float cast
        d = np.sign(a, out=out) if f.scale > 0 else np.greater(z, 0, out=np.empty_like(z) if out is None else out)
        if f.scale != 1:
            d *= f.scale
        return d


class LeakyReLU(Function):
    """f(z) = z for z > 0, slope·z otherwise;  f′(z) = 1 for z > 0, slope otherwise."""

    kink = True
    can_die = True

    @staticmethod
    def label(f: Activation) -> str:
        """'LeakyReLU(slope)'."""
        return f"LeakyReLU({f.slope:g})"

    @staticmethod
    def value(f: Activation, z: Array, out: Array | None, zeros: Array | None) -> Array:
        """z for z > 0, slope·z otherwise."""
        return _copy(np.where(z.real > 0, z, f.slope * z), out)

    @staticmethod
    def derivative(f: Activation, z: Array, a: Array, out: Array | None) -> Array:
        """1 for z > 0, slope otherwise."""
        return _copy(np.where(z > 0, 1.0, f.slope), out)


class Tanh(Function):
    """f(z) = tanh z;  f′(z) = 1 − a², computed as 4e/(1 + e)² with e = exp(−2|z|): no cancellation as |a| → 1."""

    label = "tanh"
    saturates = True

    @staticmethod
    def value(f: Activation, z: Array, out: Array | None, zeros: Array | None) -> Array:
        """tanh z."""
        return np.tanh(z, out=out)

    @staticmethod
    def derivative(f: Activation, z: Array, a: Array, out: Array | None) -> Array:
        """1 − tanh² z = 4e/(1 + e)², e = exp(−2|z|)."""
        d = _bell(z, 2.0, out)
        d *= 4
        return d


class Sigmoid(Function):
    """f(z) = σ(z);  f′(z) = a (1 − a) = σ(z)·σ(−z), computed as e/(1 + e)² with e = exp(−|z|): exact as a → 1."""

    label = "σ"
    saturates = True
    lipschitz = 0.25

    @staticmethod
    def value(f: Activation, z: Array, out: Array | None, zeros: Array | None) -> Array:
        """σ(z)."""
        return sigmoid(z, out)

    @staticmethod
    def derivative(f: Activation, z: Array, a: Array, out: Array | None) -> Array:
        """σ(z)·σ(−z) = e/(1 + e)², e = exp(−|z|)."""
        return _bell(z, 1.0, out)


class Softplus(Function):
    """f(z) = log(1 + eᶻ);  f′(z) = σ(z)."""

    label = "softplus"

    @staticmethod
    def value(f: Activation, z: Array, out: Array | None, zeros: Array | None) -> Array:
        """log(1 + eᶻ)."""
        return _copy(softplus(z), out)

    @staticmethod
    def derivative(f: Activation, z: Array, a: Array, out: Array | None) -> Array:
        """σ(z)."""
        return sigmoid(z, out)


class Softmax(Function):
    """a = exp(z − max) / Σ exp(z − max) along the last axis;  ∂a/∂z = diag(a) − a aᵀ (full: see ``vjp``)."""

    label = "softmax"
    elementwise = False

    @staticmethod
    def value(f: Activation, z: Array, out: Array | None, zeros: Array | None) -> Array:
        """exp(z − max) / Σ exp(z − max)."""
        if z.dtype.kind == "c":
            return _copy(_softmax_for_complex_step(z), out)
        e = np.exp(z - z.real.max(axis=-1, keepdims=True), out=out)
        e /= e.sum(axis=-1, keepdims=True)
        return e

    @staticmethod
    def derivative(f: Activation, z: Array, a: Array, out: Array | None) -> Array:
        """None: the Jacobian is full (vjp)."""
        raise ValueError("softmax has no diagonal Jacobian")

    @staticmethod
    def vjp(z: Array, a: Array, upstream: Array, out: Array | None) -> Array:
        """u (diag(a) − a aᵀ) = a ⊙ (u − ⟨u, a⟩), where uᵢ − ⟨u, a⟩ = uᵢ(1 − aᵢ) − Σ_{j≠i} uⱼaⱼ:
        each part without a subtraction (see softmax_parts)."""
        _, S, rest = softmax_parts(z)
        return np.multiply(a, upstream * rest / S - _others(upstream * a), out=out)


FUNCTIONS: dict[str, type[Function]] = {"identity": Identity, "relu": ReLU, "leaky_relu": LeakyReLU, "tanh": Tanh,
                             "sigmoid": Sigmoid, "softplus": Softplus, "softmax": Softmax}


@dataclass(frozen=True)
class Activation:
    """f or g, chosen by name; ``scale`` is ReLU's c in c·max(0, z), ``slope`` leaky ReLU's."""

    name: ActivationName
    scale: float = 1.0
    slope: float = 0.01

    @cached_property
    def function(self) -> Any:  # the class: its value and derivative are static methods of varying shapes
        """The class holding this function's value and derivative."""
        return FUNCTIONS[self.name]

    # what the function states of itself (Function's attributes)
    elementwise = property(lambda self: self.function.elementwise, doc="A diagonal Jacobian (all but softmax).")
    has_kink = property(lambda self: self.function.kink, doc="The derivative jumps at z = 0 (no finite differences).")
    saturates = property(lambda self: self.function.saturates, doc="f′ vanishes for large |z| (σ, tanh).")
    can_die = property(lambda self: self.function.can_die, doc="A unit can pass no gradient on every row (ReLU).")

    @property
    def lipschitz(self) -> float:
        """The largest |slope| of an elementwise function: bounds how far a step can move its output."""
        if self.name == "relu":
            return abs(self.scale)
        if self.name == "leaky_relu":
            return max(1.0, self.slope)
        return self.function.lipschitz

    def __call__(self, z: Array, out: Array | None = None, zeros: Array | None = None) -> Array:
        """The value a = f(z), shape of z; written into ``out`` if given (training's buffers; ReLU
        compares against ``zeros`` if given, read-only zeros at least z's shape)."""
        return self.function.value(self, z, out, zeros)

    def derivative(self, z: Array, a: Array, out: Array | None = None) -> Array:
        """The diagonal of ∂a/∂z for an elementwise function, given real z and a = f(z); into ``out`` if given."""
        return self.function.derivative(self, z, a, out)

    def vjp(self, z: Array, a: Array, upstream: Array, out: Array | None = None) -> Array:
        """upstream · ∂a/∂z for each row: (B, d) → (B, d), without forming the Jacobian.

        ``out`` (if given) receives the result and must not be ``upstream`` itself."""
        if not self.elementwise:
            return self.function.vjp(z, a, upstream, out)
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
        label = self.function.label
        return label if isinstance(label, str) else str(label(self))
