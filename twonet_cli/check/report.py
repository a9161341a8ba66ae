"""`twonet check` as a computation: every parameter and local Jacobian against numerical
derivatives, and a verdict (pure numpy; ui/check.py shows it, ui/json.py writes it as JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.activations import Array, sigmoid_pair
from ..core.jacobians import jacobians
from ..core.losses import BCE_EPS, CE_TINY, LossName, one_hot
from ..core.model import CHAIN_RULE, PARAM_NAMES, Net, Params, backward, forward
from .bounds import complex_step_floors, gradient_terms
from .compare import Comparison, compare, underflow
from .diagnose import Finding, diagnose
from .numeric import (
    COMPLEX_H,
    Problem,
    central_sample,
    central_step,
    complex_dtype,
    kinks,
    numeric_grad,
)

CENTRAL_BUDGET = 1 << 22  # perturbed values for central differences before W1 is sampled
StepCurve = list[tuple[float, float, float]]  # (h, max relative error, median relative error)


@dataclass(frozen=True)
class ArrayCheck:
    """One line of the report: a parameter's gradient or a local Jacobian, against both references."""

    name: str
    stage: str  # what this entry of the chain rule is, for the reader
    primary: Comparison  # against the complex step: the verdict
    central: Comparison  # against central differences (kinks marked): a second opinion

    @property
    def unreliable(self) -> Array:
        """Entries where central differences disagree but the complex step agrees: there the finite
        difference is no reference (rounding, saturation), and it never fails an entry on its own."""
        return self.central.failing & ~self.primary.failing


@dataclass(frozen=True)
class CheckReport:
    """Every array checked, and what the diagnosis of a hand-written gradient found."""

    dtype: str
    source: str  # "twonet" or the --grads file
    params: list[ArrayCheck]
    jacobians: list[ArrayCheck]
    findings: list[Finding] = field(default_factory=list)

    def row_passed(self, row: ArrayCheck) -> bool:
        """The complex step agrees, and no finding (e.g. a transposed layout) names this row."""
        names = (row.name, "all") if row.name in PARAM_NAMES else (row.name,)
        named = any(f.fatal and f.param in names for f in self.findings)
        return row.primary.passed and not named

    @property
    def passed(self) -> bool:
        """Every array passes and no finding is fatal."""
        return all(self.row_passed(r) for r in self.params + self.jacobians) and not any(
            f.fatal for f in self.findings
        )

    @property
    def entries(self) -> int:
        """Parameter entries checked."""
        return sum(r.primary.entries for r in self.params)

    @property
    def kinks(self) -> int:
        """Parameter entries at a ReLU kink, left to the complex step."""
        return sum(int(r.central.kinks.sum()) for r in self.params)

    @property
    def rows(self) -> list[ArrayCheck]:
        """Parameters, then local Jacobians."""
        return self.params + self.jacobians

    def waivers(self) -> list[tuple[str, int, str]]:
        """(array, entries, why) for every entry left unjudged: not checkable here, or central
        differences that are no reference where the complex step agrees."""
        out = []
        for r in self.rows:
            if r.primary.waived_count:
                out.append((r.name, r.primary.waived_count, f"not checkable here: {r.primary.why}"))
            unreliable = int(r.unreliable.sum())
            if unreliable:
                out.append((r.name, unreliable, "central differences unreliable (the complex step agrees)"))
        return out


STAGES = {name: f"∂ℓ/∂{name} = Σ {rule}" for name, rule in CHAIN_RULE.items()}


def _rows_for_params(pb: Problem, analytic: dict[str, Array], reference: dict[str, Array],
                     rng: np.random.Generator) -> list[ArrayCheck]:
    dtype = pb.params.W1.dtype
    loss = float(np.abs(pb.loss_of_z3(pb.cache.z3)))
    kink = kinks(pb)
    terms = gradient_terms(pb.net, pb.params, pb.cache, pb.y)
    floors = complex_step_floors(pb.net, pb.params, pb.cache, pb.y, underflow(dtype, "complex"))
    sample = central_sample(pb, CENTRAL_BUDGET, rng)
    rows = []
    for name in PARAM_NAMES:
        cs = reference[name]
        only = sample[name]
        cd = numeric_grad(pb, name, "central", only=only)
        checked = None if only is None else np.isfinite(cd)
        a = analytic[name]
        rows.append(ArrayCheck(name, STAGES[name], compare(name, a, cs, dtype, "complex", bound=terms[name],
                                                               floor=floors[name]),
                               compare(name, a, cd, dtype, "central", kink[name], checked, loss, bound=terms[name])))
    return rows


def _size(a: Array) -> float:
    return float(np.abs(a).max(initial=0.0))


def _jacobian_rows(pb: Problem) -> list[ArrayCheck]:
    """∂z2/∂z1 (its diagonal: f is elementwise), ∂ŷ/∂z3 (full) and ∂ℓ/∂ŷ, each on its own."""
    j = jacobians(pb.net, pb.cache, pb.y)
    return [_hidden_row(pb, j.dz2_dz1), _output_row(pb, j.dyhat_dz3), _loss_row(pb, j.dloss_dyhat)]


def _hidden_row(pb: Problem, analytic: Array) -> ArrayCheck:
    """∂z2/∂z1: its diagonal entries Mᵢᵢ per sample (B, m), each from moving one z1 entry."""
    f, c = pb.net.f, pb.cache
    dtype = c.z1.dtype
    h, hc = COMPLEX_H, central_step(dtype)
    cs = f(c.z1.astype(complex_dtype(dtype)) + 1j * h).imag / h
    cd = (f(c.z1 + hc) - f(c.z1 - hc)) / (2 * hc)
    kink = np.abs(c.z1) <= hc if f.has_kink else None
    return ArrayCheck("∂z2/∂z1", f"diagonal of M = ∂{f.label()}(z1)/∂z1",
                      compare("∂z2/∂z1", analytic, cs, dtype, "complex"),
                      compare("∂z2/∂z1", analytic, cd, dtype, "central", kink, value=_size(c.z2)))


def _output_row(pb: Problem, analytic: Array) -> ArrayCheck:
    """∂ŷ/∂z3: column k of each sample's K×K matrix from moving z3[:, k]; shape (B, K, K)."""
    g, c = pb.net.g, pb.cache
    dtype, K = c.z3.dtype, c.z3.shape[1]
    h, hc, eye = COMPLEX_H, central_step(dtype), np.eye(K)
    full = analytic if analytic.ndim == 3 else analytic[:, :, None] * eye
    z = c.z3.astype(complex_dtype(dtype))
    cs = np.stack([g(z + 1j * h * eye[k]).imag / h for k in range(K)], axis=-1)  # g is careful at z + ih
    cd = np.stack([(g(c.z3 + hc * eye[k]) - g(c.z3 - hc * eye[k])) / (2 * hc) for k in range(K)], axis=-1)
    kink = np.broadcast_to(np.abs(c.z3)[:, None, :] <= hc, cs.shape) if g.has_kink else None
    return ArrayCheck("∂ŷ/∂z3", f"P = ∂{g.label()}(z3)/∂z3, full", compare("∂ŷ/∂z3", full, cs, dtype, "complex"),
                      compare("∂ŷ/∂z3", full, cd, dtype, "central", kink, value=_size(c.y_hat)))


def _loss_row(pb: Problem, analytic: Array) -> ArrayCheck:
    """∂ℓ/∂ŷ (B, K): ℓ as a function of ŷ alone, by the textbook formula, each entry moved on its own
    (ℓ is a sum of elementwise terms, so all entries move at once). For BCE, 1 − ŷ is σ(−z3),
    exact, and moves opposite to ŷ; steps are scaled to ŷ (and 1 − ŷ), where log is linear."""
    loss, c, y = pb.net.loss, pb.cache, pb.y
    dtype, y_hat = c.z3.dtype, c.y_hat
    h, hc = COMPLEX_H, central_step(dtype)
    q = sigmoid_pair(c.z3)[1] if loss.name == "bce" else 1 - y_hat
    room = {"mse": np.maximum(1, np.abs(y_hat)), "bce": np.minimum(y_hat, q)}.get(loss.name, y_hat)
    room = np.where(room > 0, room, 1.0)  # ŷ exactly 0 or 1: log is −∞ there, and the entry is waived
    n = loss.divisor(*y.shape)
    with np.errstate(all="ignore"):
        hv = h * room
        cs = loss.terms_of_yhat(y_hat + 1j * hv, y, q - 1j * hv).imag / hv / n
        step = hc * room
        up, down = loss.terms_of_yhat(y_hat + step, y, q - step), loss.terms_of_yhat(y_hat - step, y, q + step)
        cd = (up - down) / (2 * step) / n
        value = _size(loss.terms_of_yhat(y_hat, y, q))
    waived, why = None, ""
    if loss.name == "bce":
        waived, why = y_hat * q <= BCE_EPS, "ŷ(1 − ŷ) ≤ 1e-12, where V is clamped like PyTorch's BCELoss"
    elif loss.name == "cross_entropy":
        waived, why = (y != 0) & (y_hat <= CE_TINY), "ŷ underflowed to 0 in float64, where −y/ŷ is infinite"
    return ArrayCheck("∂ℓ/∂ŷ", f"V = ∂{loss.name}/∂ŷ",
                      compare("∂ℓ/∂ŷ", analytic, cs, dtype, "complex", waived=waived, why=why),
                      compare("∂ℓ/∂ŷ", analytic, cd, dtype, "central", value=value, waived=waived, why=why))


def run_check(net: Net, params: Params, x: Array, y: Array, *, dtype: Any = np.float64,
              grads: dict[str, Array] | None = None, source: str = "twonet", seed: int = 0) -> CheckReport:
    """Check twonet's gradients (or ``grads``, e.g. hand-written) of ℓ(x, y) at ``params``.

    Everything runs in ``dtype``; numerical references are the complex step (primary) and
    central differences. ``grads`` may have transposed or swapped shapes: the findings say so.
    """
    params, x, y = params.astype(dtype), np.asarray(x, dtype), np.asarray(y, dtype)
    pb = Problem(net, params, x, y)
    rng = np.random.default_rng(seed)
    reference = {k: numeric_grad(pb, k, "complex") for k in PARAM_NAMES}
    analytic = dict(backward(net, params, forward(net, params, x), y).grads.items())
    findings: list[Finding] = []
    if grads is not None:
        findings, analytic = diagnose(grads, reference, net, params.shape, x.shape[0])
    rows = _rows_for_params(pb, analytic, reference, rng)
    if grads is not None:  # the entry-level verdict, rounding bounds and all, decides which arrays are wrong:
        failing = {r.name for r in rows if not r.primary.passed}  # a 4e-16 where the sum cancels to 0 is no mistake
        findings = [f for f in findings if f.param in failing or f.kind in ("transposed", "swapped", "shape")
                    or (f.param == "all" and failing)]
    return CheckReport(np.dtype(dtype).name, source, rows, _jacobian_rows(pb), findings)


def step_curve(net: Net, params: Params, x: Array, y: Array, *,
               dtype: Any = np.float64) -> StepCurve:
    """Central-difference error against the complex step for steps h = 10⁻¹ … 10⁻¹³:
    (h, max relative error, median relative error) over all entries of b1, W2, b2 and a sample of W1."""
    params, x, y = params.astype(dtype), np.asarray(x, dtype), np.asarray(y, dtype)
    pb = Problem(net, params, x, y)
    sample = central_sample(pb, CENTRAL_BUDGET // 4, np.random.default_rng(0))
    reference = {k: numeric_grad(pb, k, "complex") for k in PARAM_NAMES}
    eps = float(np.finfo(dtype).eps)
    out = []
    for e in range(1, 14 if eps < 1e-10 else 8):
        h = 10.0**-e
        rel = []
        kink = kinks(pb, h)
        for k in PARAM_NAMES:
            cd = numeric_grad(pb, k, "central", h=h, only=sample[k])
            ok = np.isfinite(cd) & ~kink[k]  # a step across a kink measures the kink, not the step
            r = reference[k][ok]
            rel.append(np.abs(cd[ok] - r) / np.maximum(np.abs(cd[ok]) + np.abs(r), np.finfo(np.float64).tiny))
        allrel = np.concatenate(rel)
        out.append((h, float(allrel.max()), float(np.median(allrel))))
    return out


def random_batch(n: int, K: int, loss: LossName, batch: int, rng: np.random.Generator) -> tuple[Array, Array]:
    """x ~ N(0, 1) of shape (B, n), and targets that suit the loss: N(0, 1) for mse,
    U(0, 1) for bce, one-hot random classes for cross_entropy."""
    x = rng.normal(size=(batch, n))
    match loss:
        case "mse":
            y = rng.normal(size=(batch, K))
        case "bce":
            y = rng.uniform(size=(batch, K))
        case _:
            y = one_hot(rng.integers(0, K, size=batch), K)
    return x, y
