"""Analytic against numerical derivatives, entry by entry, with tolerances stated per method and dtype."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.activations import Array
from .numeric import COMPLEX_H, Method, central_step


@dataclass(frozen=True)
class Comparison:
    """Analytic against numerical derivatives of one array, entry by entry."""

    name: str
    analytic: Array
    numeric: Array
    kinks: Array  # bool, same shape: entries where this reference is not valid
    rtol: float
    atol: float
    checked: Array | None = None  # bool, same shape: entries the reference was computed for (None: all)
    allow: Array | float = 0.0  # per entry: the rounding error of the terms the entry is computed from
    waived: Array | None = None  # bool, same shape: entries not checkable here (see ``why``)
    why: str = ""  # the reason for the waived entries

    @property
    def counted(self) -> Array:
        """Entries that get a verdict: checked, not at a kink, not waived."""
        out = ~self.kinks if self.checked is None else self.checked & ~self.kinks
        return out if self.waived is None else out & ~self.waived

    @property
    def waived_count(self) -> int:
        """Entries not checkable here (named by ``why``)."""
        return 0 if self.waived is None else int(self.waived.sum())

    @property
    def entries(self) -> int:
        """The number of entries the reference was computed for."""
        return int(self.analytic.size if self.checked is None else self.checked.sum())

    @property
    def abs_err(self) -> Array:
        """|analytic − numeric|, entry by entry."""
        return np.abs(self.analytic - self.numeric)

    @property
    def rel_err(self) -> Array:
        """|a − n| / max(|a| + |n|, tiny)."""
        tiny = np.finfo(np.float64).tiny
        return self.abs_err / np.maximum(np.abs(self.analytic) + np.abs(self.numeric), tiny)

    @property
    def failing(self) -> Array:
        """Entries off by more than rtol relative *and* atol absolute (kinks and unchecked excluded)."""
        off = (self.rel_err > self.rtol) & (self.abs_err > np.maximum(self.atol, self.allow))
        return (off | ~np.isfinite(self.analytic)) & self.counted

    @property
    def within_rounding(self) -> Array:
        """Entries that pass on absolute error alone: their sum cancels (or underflows), and they agree
        to the rounding of the terms they are computed from, though not to rtol of themselves."""
        return self.counted & (self.rel_err > self.rtol) & ~self.failing

    @property
    def passed(self) -> bool:
        """True when no counted entry fails."""
        return not self.failing.any()

    def worst(self) -> tuple[int, ...]:
        """Index of the entry nearest to failing (or furthest past it): largest min(rel/rtol, abs/atol)."""
        tiny = np.finfo(np.float64).tiny
        with np.errstate(invalid="ignore"):
            severity = np.minimum(self.rel_err / self.rtol, self.abs_err / np.maximum(np.maximum(self.atol, self.allow),
                                                                                      tiny))
        severity = np.where(~np.isfinite(self.analytic), np.inf, np.nan_to_num(severity))
        severity = np.where(self.counted, severity, -1.0)
        if not severity.size or not self.counted.any():
            return ()
        return tuple(int(i) for i in np.unravel_index(int(np.argmax(severity)), severity.shape))

    def top_failures(self, count: int) -> list[tuple[tuple[int, ...], float, float, float]]:
        """Up to ``count`` failing entries, worst first: (index, analytic, numeric, rel error)."""
        idx = np.flatnonzero(self.failing)
        idx = idx[np.argsort(-self.rel_err.reshape(-1)[idx], kind="stable")][:count]
        shape = self.analytic.shape
        return [
            (tuple(int(i) for i in np.unravel_index(int(f), shape)), float(self.analytic.reshape(-1)[f]),
             float(self.numeric.reshape(-1)[f]), float(self.rel_err.reshape(-1)[f]))
            for f in idx
        ]


def tolerances(dtype: Any, method: Method) -> tuple[float, float]:
    """(rtol, atol factor): the stated thresholds, scaled to the dtype's ε.

    Complex step: rtol = 10·ε^(2/3) (3.7e-10 in float64, 2.4e-4 in float32), far above rounding
    and far below the O(1) error of a real mistake. Central differences: rtol = 1e4·ε^(2/3)
    (3.7e-7 in float64), since their own error is ≈ ε^(2/3) times the third derivative's scale.
    The atol factor, times the largest |∂ℓ/∂θ| of the same array, keeps entries that are zero up to
    rounding (sums that cancel) from failing on a relative error near 1.
    """
    eps23 = float(np.finfo(dtype).eps) ** (2 / 3)
    rtol = min(10 * eps23 if method == "complex" else 1e4 * eps23, 0.1)
    return rtol, 0.1 * rtol


ROUNDING = 64  # ε's worth of rounding allowed per entry, times the size of the terms it is computed from


def underflow(dtype: Any, method: Method = "central") -> float:
    """Differences below this are underflow, not error: a gradient of 1e-308 passes against 0.

    The complex step sees less: its Im ℓ(θ + ih) is h times the derivative, so a derivative below
    (smallest subnormal)/h is resolved only to a few digits, if at all (5e-304 in float64)."""
    info = np.finfo(dtype)
    resolution = float(info.smallest_subnormal) / COMPLEX_H if method == "complex" else float(info.tiny)
    return 1e3 * max(resolution, float(info.tiny))


def compare(name: str, analytic: Array, numeric: Array, dtype: Any, method: Method,
            kink: Array | None = None, checked: Array | None = None, value: float = 0.0,
            bound: Array | None = None, waived: Array | None = None, why: str = "",
            floor: Array | None = None) -> Comparison:
    """Compare with the stated thresholds for ``dtype`` and ``method`` (see ``tolerances``).

    An entry passes when its relative error is within rtol, or its absolute error within the
    largest of: atol (a fraction of the array's largest reference), the rounding error of the
    terms it is computed from (ROUNDING·ε·``bound``), and underflow (or ``floor``, the reference's own
    resolution, per entry). For central differences,
    ``value`` is the size of the function differenced (|ℓ|, say): its rounding, ε·|value|/h, is
    noise every entry carries, however small its derivative. ``waived`` entries (and any whose
    reference is not finite) are not checkable here: they are counted, with ``why``, not judged.
    """
    rtol, afactor = tolerances(dtype, method)
    eps = float(np.finfo(dtype).eps)
    noise = 10 * eps * abs(value) / central_step(dtype) if method == "central" else 0.0
    numeric = np.asarray(numeric, np.float64)
    shape = numeric.shape
    computed = np.ones(shape, dtype=bool) if checked is None else checked
    unfinite = computed & ~np.isfinite(numeric)
    waived = unfinite if waived is None else waived | unfinite
    if unfinite.any() and not why:
        why = "the reference is not finite in float64 there"
    usable = computed & ~waived
    scale = float(np.abs(np.where(usable, numeric, 0)).max(initial=0.0))
    kink = np.zeros(shape, dtype=bool) if kink is None else kink
    least = np.maximum(underflow(dtype, method), 0 if floor is None else floor)
    allow = least if bound is None else np.maximum(ROUNDING * eps * np.asarray(bound), least)
    return Comparison(name, np.asarray(analytic, np.float64), numeric, kink, rtol, max(afactor * scale, noise),
                      checked, allow, waived if waived.any() else None, why)
