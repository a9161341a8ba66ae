"""One student's instance of the exercise: x, y and the parameters drawn from a seed that only the
course secret and the student's id determine (HMAC-SHA256), with values a person can work by hand,
redrawn until no item is trivial or ambiguous. Pure numpy: no file is read or written here."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..check.bounds import gradient_terms
from ..core.activations import Array
from ..core.explain import Explanation, explain
from ..core.losses import one_hot
from ..core.model import Net, Params
from ..errors import TwonetError

Values = Literal["integers", "tenths"]
NOISE = 1e-9  # an entry this small beside its item's largest is 0 up to rounding (or a value no one works by hand)
MAX_DRAWS = 1000  # draws tried per student before the config is called unworkable
RANGE = {"x": 3, "W": 2, "b": 2, "y": 3}  # values drawn from −r … r (integers, or one decimal)


@dataclass(frozen=True)
class Variant:
    """A student's numbers and the pass through them (every answer), and how many draws it took."""

    student: str
    params: Params
    x: Array
    y: Array
    explanation: Explanation
    draws: int


def secret_bytes(secret: str) -> bytes:
    """The secret as the bytes typed (a terminal's undecodable bytes kept as they came)."""
    return secret.encode("utf-8", "surrogateescape")


def seed(secret: str, student: str, draw: int, exercise: str = "") -> int:
    """A 128-bit seed from the secret, the id and the exercise (its network, batch and values, so
    that two assignments under one secret differ): reproducible by whoever has the secret, and no
    guide to another student's numbers for whoever has only their own."""
    message = f"twonet-variant\0{exercise}\0{student}\0{draw}".encode("utf-8", "surrogateescape")
    digest = hmac.new(secret_bytes(secret), message, hashlib.sha256).digest()
    return int.from_bytes(digest[:16], "big")


def fingerprint(secret: str) -> str:
    """A short mark of the secret, kept in the manifest: a later run can tell the same secret from
    another without the secret being stored."""
    return hmac.new(secret_bytes(secret), b"twonet-fingerprint", hashlib.sha256).hexdigest()[:16]


def _values(rng: np.random.Generator, shape: tuple[int, ...], r: int, values: Values) -> Array:
    """Numbers from −r … r: integers, or multiples of 0.1."""
    if values == "integers":
        return rng.integers(-r, r + 1, size=shape).astype(np.float64)
    return rng.integers(-10 * r, 10 * r + 1, size=shape) / 10.0


def draw(net: Net, shape: tuple[int, int, int], batch: int, values: Values,
         rng: np.random.Generator) -> tuple[Params, Array, Array]:
    """One candidate: parameters, x (batch, n) and targets y (batch, K) as the loss takes them."""
    n, m, K = shape
    p = Params(W1=_values(rng, (m, n), RANGE["W"], values), b1=_values(rng, (m,), RANGE["b"], values),
               W2=_values(rng, (K, m), RANGE["W"], values), b2=_values(rng, (K,), RANGE["b"], values))
    x = _values(rng, (batch, n), RANGE["x"], values)
    match net.loss.name:
        case "bce":
            y = rng.integers(0, 2, size=(batch, K)).astype(np.float64)
        case "cross_entropy":
            y = one_hot(rng.integers(0, K, size=batch), K)
        case _:
            y = _values(rng, (batch, K), RANGE["y"], values)
    return p, x, y


def degenerate(e: Explanation) -> str | None:
    """Why this instance would make a poor exercise, or None: a sample twice in the batch, a ReLU
    input at its kink (the derivative there is a convention), every ReLU unit dead, ŷ exactly 0 or
    1, an item all zeros (nothing to work out), an entry that is 0 up to rounding (a key could not
    say whether it is 0), or a number float64 cannot hold."""
    if e.non_finite() is not None:
        return "not finite"
    c, f = e.cache, e.net.f
    if len(np.unique(c.x, axis=0)) < len(c.x):
        return "one sample twice"
    if f.name in ("relu", "leaky_relu") and (np.abs(c.z1) <= NOISE * np.abs(c.z1).max()).any():
        return "z1 at the ReLU's kink"
    if f.name == "relu" and not (c.z1 > 0).any():
        return "every ReLU unit dead"
    if e.net.g.name in ("sigmoid", "softmax") and ((c.y_hat == 0) | (c.y_hat == 1)).any():
        return "ŷ exactly 0 or 1"
    items = {"z1": c.z1, "z2": c.z2, "z3": c.z3, "y_hat": c.y_hat, "loss": np.asarray(e.loss),
             **{f"d{k}": a for k, a in e.back.grads.items()}}
    zero = next((name for name, a in items.items() if not a.any()), None)
    if zero is not None:
        return f"{zero} all zeros"
    noisy = next((name for name, a in items.items()
                  if ((a != 0) & (np.abs(a) <= NOISE * np.abs(a).max())).any()), None)
    if noisy is None:  # a gradient's entry beside the terms it is summed from: a sum that cancels to 0
        terms = gradient_terms(e.net, e.params, c, e.y)
        noisy = next((f"d{k}" for k, a in e.back.grads.items()
                      if ((a != 0) & (np.abs(a) <= NOISE * np.maximum(terms[k], np.abs(a)))).any()), None)
    return None if noisy is None else f"{noisy} has an entry that is 0 up to rounding"


def variant(net: Net, shape: tuple[int, int, int], student: str, secret: str, batch: int,
            values: Values) -> Variant:
    """The first draw for this student that is not ``degenerate``."""
    reasons: dict[str, int] = {}
    exercise = f"{net.f.spec()}{net.g.spec()}{net.loss.name}{net.loss.reduction}{shape}{batch}{values}"
    for k in range(MAX_DRAWS):
        rng = np.random.default_rng(seed(secret, student, k, exercise))
        p, x, y = draw(net, shape, batch, values, rng)
        with np.errstate(all="ignore"):
            e = explain(net, p, x, y)
        why = degenerate(e)
        if why is None:
            return Variant(student, p, x, y, e, k + 1)
        reasons[why] = reasons.get(why, 0) + 1
    common = max(reasons, key=lambda r: reasons[r])
    raise TwonetError(f"no workable variant for {student!r} in {MAX_DRAWS} draws (most often: {common}); "
                      "use other sizes, another f or g, or --values tenths")
