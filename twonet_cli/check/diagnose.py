"""Name the classic mistakes in hand-written gradients from how they differ from the reference.

Given gradients g (any shapes) and the complex-step reference r for W1, b1, W2, b2, each
parameter is tested, in this order, for: a transposed layout, another parameter's gradient,
a constant factor g = c·r (c named when it has a known cause), and a few wrong entries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.activations import Array
from ..core.model import PARAM_NAMES, Net

CLOSE = 1e-6  # relative residual under which two arrays count as the same up to the named change


@dataclass(frozen=True)
class Finding:
    """One named mistake in the gradients given, and which parameter it concerns."""

    param: str  # "W1" ... or "all"
    kind: str  # transposed | swapped | factor | sign | entries | shape | pattern
    message: str
    fatal: bool = True  # fails the check even where the values compare equal once lined up


def same(a: Array, b: Array, close: float = CLOSE) -> bool:
    """a ≈ b up to ``close`` relative to their size."""
    if a.shape != b.shape or not np.isfinite(a).all():
        return False
    scale = max(float(np.linalg.norm(b)), float(np.linalg.norm(a)), np.finfo(np.float64).tiny)
    return float(np.linalg.norm(a - b)) <= close * scale


def factor(g: Array, r: Array, close: float = CLOSE) -> float | None:
    """c with g ≈ c·r (least squares) up to ``close``, or None when no single factor fits."""
    rr = float(np.vdot(r, r))
    if rr == 0.0:
        return None
    c = float(np.vdot(r, g)) / rr
    return c if same(g, c * r, close) and c != 0.0 else None


@dataclass(frozen=True)
class Cause:
    """A known reason for a gradient that is ``factor`` times the right one: its short label, what it
    is in words, and whether it lies upstream of the chain's split (in the loss or ∂ℓ/∂z3), where it
    would change all four gradients alike."""

    factor: float
    label: str
    text: str
    upstream: bool = False


def causes(c: float, name: str, net: Net, B: int, K: int, close: float = CLOSE) -> list[Cause]:
    """Known reasons for a gradient of ``name`` (W1 … b2, or "all" four) that is c times the right one."""
    n_mean = net.loss.mean_divisor(B, K)
    sign = (Cause(-1.0, "sign flipped", "sign flipped: ŷ − y written as y − ŷ, or the step added instead of "
                  "subtracted", upstream=True) if name == "all" else
            Cause(-1.0, "sign flipped", f"sign flipped in ∂ℓ/∂{name} alone (its own formula, not ŷ − y, which would "
                  "flip all four)"))
    known = [sign]
    scale = net.f.scale if net.f.name == "relu" else 1.0
    if scale != 1.0 and name in ("W1", "b1"):
        known += [Cause(1 / scale, "the ReLU scale is missing",
                        f"the ReLU scale is missing: ∂z2/∂z1 = {scale:g}·[z1 > 0], not [z1 > 0]"),
                  Cause(scale, "the ReLU scale applied twice", f"the ReLU scale {scale:g} is applied twice")]
    if net.loss.name == "mse":
        known += [Cause(0.5, "the 2 of the MSE missing", "the 2 of the MSE derivative 2(ŷ − y) is missing", True),
                  Cause(2.0, "the MSE's 2 applied twice", "the MSE derivative is doubled (2 applied twice)", True)]
    red = net.loss.reduction
    mismatch = "reduction mismatch"
    if red == "mean":
        known += [Cause(float(n_mean), mismatch, f"{mismatch}: summed over the batch where the loss is the mean "
                        f"(×{n_mean})", True)]
        if net.loss.name != "cross_entropy" and K > 1:
            known += [Cause(float(B), mismatch, f"{mismatch}: divided by K only, not B·K (×B = {B})", True),
                      Cause(float(K), mismatch, f"{mismatch}: divided by B only, not B·K (×K = {K})", True)]
        if net.loss.name == "cross_entropy" and K > 1:
            known += [Cause(1 / K, mismatch, f"{mismatch}: divided by B·K where cross-entropy's mean divides by B "
                            f"only (÷K = {K})", True)]
    else:
        known += [Cause(1 / n_mean, mismatch, f"{mismatch}: averaged (÷{n_mean}) where the loss is the sum", True)]
    if B > 1 and all(abs(k.factor - 1 / B) > close * (1 / B) for k in known):
        known += [Cause(1 / B, "averaged over the batch", f"averaged over the batch (÷B = {B}) where the samples' "
                        "gradients add up (a mean loss has its 1/N in ∂ℓ/∂ŷ already)")]
    return [k for k in known if abs(c - k.factor) <= close * abs(k.factor)]


def diagnose(grads: dict[str, Array], ref: dict[str, Array], net: Net, shape: tuple[int, int, int],
             B: int) -> tuple[list[Finding], dict[str, Array]]:
    """Findings about ``grads``, and the arrays to compare entry by entry (expected shapes;
    NaN where a gradient cannot be lined up with its parameter)."""
    K = shape[2]
    findings: list[Finding] = []
    aligned: dict[str, Array] = {}
    factors: dict[str, float] = {}
    for name in PARAM_NAMES:
        g, r = np.asarray(grads[name], np.float64), ref[name]
        if g.shape != r.shape:
            aligned[name] = np.full(r.shape, np.nan)  # no entry lines up: shown as —, the finding says why
            findings.append(_misshaped(name, g, r, ref))
            continue
        aligned[name] = g
        if same(g, r):
            continue
        findings.extend(_mismatch(name, g, r, ref, net, B, K, factors))
    if len(factors) == len(PARAM_NAMES) and len({round(c, 9) for c in factors.values()}) == 1:
        c = next(iter(factors.values()))  # one cause upstream of every parameter: say it once
        why = [k.text for k in causes(c, "all", net, B, K)]
        kind = "sign" if abs(c + 1) <= CLOSE else "factor"
        message = f"all four gradients are ×{c:.6g} the reference" + (f": {why[0]}" if why else "")
        findings = [Finding("all", kind, message)]
    if len(findings) == len(PARAM_NAMES) and all(f.kind in ("pattern", "entries") for f in findings):
        findings.append(Finding("all", "batch", "these look like gradients of a different batch or parameters: "
                                "pass the same --input/--target/--params you computed them with", fatal=False))
    if _float32_values(grads) and any(not same(aligned[k], ref[k], 1e-12) for k in PARAM_NAMES):
        findings.append(Finding("all", "float32", "these gradients are float32 numbers (PyTorch's default), so "
                                "they differ by float32 rounding (rel err ≈ 1e-8): compare with --dtype float32, "
                                "or save them in float64", fatal=False))
    return findings, aligned


def _float32_values(grads: dict[str, Array]) -> bool:
    """True when every gradient is exactly representable in float32 (and not all zeros)."""
    arrays = [np.asarray(grads[k], np.float64) for k in PARAM_NAMES]
    return any(a.any() for a in arrays) and all(np.array_equal(a.astype(np.float32), a) for a in arrays)


def _misshaped(name: str, g: Array, r: Array, ref: dict[str, Array]) -> Finding:
    if r.ndim == 2 and g.shape == r.T.shape:
        verdict = "its values match after transposing" if same(g.T, r) else "and its values differ even transposed"
        return Finding(name, "transposed", f"∂ℓ/∂{name} is transposed: given {g.shape}, expected {r.shape}; {verdict}")
    for other, ro in ref.items():
        if other != name and g.shape == ro.shape:
            what = f"equals ∂ℓ/∂{other}" if same(g, ro) else f"has the shape of ∂ℓ/∂{other}"
            return Finding(name, "swapped", f"the array given as ∂ℓ/∂{name} {what}: gradients of the wrong parameter")
    return Finding(name, "shape", f"∂ℓ/∂{name} has shape {g.shape}, expected {r.shape}")


def _mismatch(name: str, g: Array, r: Array, ref: dict[str, Array], net: Net, B: int, K: int,
              factors: dict[str, float]) -> list[Finding]:
    if r.ndim == 2 and r.shape[0] == r.shape[1] and same(g, r.T):
        return [Finding(name, "transposed", f"∂ℓ/∂{name} is the transpose of the reference")]
    for other, ro in ref.items():
        if other != name and ro.shape == g.shape and same(g, ro):
            return [Finding(name, "swapped", f"the array given as ∂ℓ/∂{name} equals ∂ℓ/∂{other}: "
                            "gradients of the wrong parameter")]
    c = factor(g, r)
    if c is not None:
        factors[name] = c
        why = [k.text for k in causes(c, name, net, B, K)]
        kind = "sign" if abs(c + 1) <= CLOSE else "factor"
        message = f"∂ℓ/∂{name} is ×{c:.6g} the reference" + (f": {'; or '.join(why)}" if why else "")
        return [Finding(name, kind, message)]
    scale = float(np.abs(r).max(initial=0.0))
    wrong = np.argwhere(np.abs(g - r) > CLOSE * max(scale, np.finfo(np.float64).tiny))
    if 0 < len(wrong) <= 3:
        where = ", ".join(f"{name}{list(map(int, w))}" for w in wrong)
        return [Finding(name, "entries", f"only {len(wrong)} entr{'y' if len(wrong) == 1 else 'ies'} wrong: {where}")]
    return [Finding(name, "pattern", f"∂ℓ/∂{name} differs in {len(wrong)} of {g.size} entries, with no simple pattern")]
