"""`twonet check` as a computation: every parameter and local Jacobian against numerical
derivatives, and a verdict (pure numpy; ui/check.py shows it, ui/json.py writes it as JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.activations import Array
from ..core.jacobians import jacobians
from ..core.losses import LossName
from ..core.model import PARAM_NAMES, Net, Params, backward, forward
from .compare import Comparison, compare
from .diagnose import Finding, diagnose
from .numeric import COMPLEX_H, Problem, central_sample, central_step, complex_dtype, kinks, numeric_grad

CENTRAL_BUDGET = 1 << 22  # perturbed values for central differences before W1 is sampled
StepCurve = list[tuple[float, float, float]]  # (h, max relative error, median relative error)


@dataclass(frozen=True)
class ArrayCheck:
    """One line of the report: a parameter's gradient or a local Jacobian, against both references."""

    name: str
    stage: str  # what this entry of the chain rule is, for the reader
    primary: Comparison  # against the complex step
    central: Comparison  # against central differences (kinks marked)


@dataclass(frozen=True)
class CheckReport:
    """Every array checked, and what the diagnosis of a hand-written gradient found."""

    dtype: str
    source: str  # "twonet" or the --grads file
    params: list[ArrayCheck]
    jacobians: list[ArrayCheck]
    findings: list[Finding] = field(default_factory=list)

    def row_passed(self, row: ArrayCheck) -> bool:
        """Both references agree, and no finding (e.g. a transposed layout) names this row."""
        names = (row.name, "all") if row.name in PARAM_NAMES else (row.name,)
        named = any(f.fatal and f.param in names for f in self.findings)
        return row.primary.passed and row.central.passed and not named

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


STAGES = {
    "W1": "∂ℓ/∂W1 = Σ (∂ℓ/∂z1)ᵀ xᵀ",
    "b1": "∂ℓ/∂b1 = Σ ∂ℓ/∂z1",
    "W2": "∂ℓ/∂W2 = Σ (∂ℓ/∂z3)ᵀ z2ᵀ",
    "b2": "∂ℓ/∂b2 = Σ ∂ℓ/∂z3",
}


def _rows_for_params(pb: Problem, analytic: dict[str, Array], reference: dict[str, Array],
                     rng: np.random.Generator) -> list[ArrayCheck]:
    dtype = pb.params.W1.dtype
    loss = float(np.abs(pb.loss_of_z3(pb.cache.z3)))
    kink = kinks(pb)
    sample = central_sample(pb, CENTRAL_BUDGET, rng)
    rows = []
    for name in PARAM_NAMES:
        cs = reference[name]
        only = sample[name]
        cd = numeric_grad(pb, name, "central", only=only)
        checked = None if only is None else np.isfinite(cd)
        a = analytic[name]
        rows.append(ArrayCheck(name, STAGES[name], compare(name, a, cs, dtype, "complex"),
                        compare(name, a, cd, dtype, "central", kink[name], checked, loss)))
    return rows


def _size(a: Array) -> float:
    return float(np.abs(a).max(initial=0.0))


def _jacobian_rows(pb: Problem) -> list[ArrayCheck]:
    """∂z2/∂z1 (its diagonal: f is elementwise), ∂ŷ/∂z3 (full) and ∂ℓ/∂ŷ, each on its own."""
    net, c, y = pb.net, pb.cache, pb.y
    dtype = c.z1.dtype
    cdt, h, hc = complex_dtype(dtype), COMPLEX_H, central_step(dtype)
    j = jacobians(net, c, y)

    # ∂z2/∂z1: diagonal entries Mᵢᵢ per sample (B, m)
    m_cs = net.f(c.z1.astype(cdt) + 1j * h).imag / h
    m_cd = (net.f(c.z1 + hc) - net.f(c.z1 - hc)) / (2 * hc)
    m_an = j.dz2_dz1  # elementwise f: the diagonal
    m_kink = np.abs(c.z1) <= hc if net.f.has_kink else None

    # ∂ŷ/∂z3: column k of each sample's K×K matrix from moving z3[:, k]; shape (B, K, K)
    p_an = j.dyhat_dz3 if j.dyhat_dz3.ndim == 3 else j.dyhat_dz3[:, :, None] * np.eye(c.z3.shape[1])
    K = c.z3.shape[1]
    eye = np.eye(K)
    p_cs = np.stack([net.g(c.z3.astype(cdt) + 1j * h * eye[k]).imag / h for k in range(K)], axis=-1)
    p_cd = np.stack([(net.g(c.z3 + hc * eye[k]) - net.g(c.z3 - hc * eye[k])) / (2 * hc) for k in range(K)], axis=-1)
    p_kink = np.abs(c.z3)[:, None, :] <= hc if net.g.has_kink else None
    if p_kink is not None:
        p_kink = np.broadcast_to(p_kink, p_cs.shape)

    # ∂ℓ/∂ŷ: ℓ as a function of ŷ alone, each entry moved on its own; shape (B, K)
    # central steps relative to the distance from 0 and 1, so that log ŷ and log(1 − ŷ) stay defined
    B = y.shape[0]
    y_hat = c.y_hat
    room = {"mse": np.maximum(1, np.abs(y_hat)), "bce": np.minimum(y_hat, 1 - y_hat)}.get(net.loss.name, y_hat)
    room = np.where(room > 0, room, 1.0).reshape(-1)  # ŷ exactly 0 or 1: log is −∞ there anyway
    step = hc * room
    flat = np.eye(B * K).reshape(B * K, B, K)
    moved = step[:, None, None] * flat
    # the complex step too is scaled to ŷ: log ŷ is only linear in ih while h ≪ ŷ
    hv = h * room
    v_cs = (net.loss.of_yhat(y_hat.astype(cdt) + 1j * hv[:, None, None] * flat, y).imag / hv).reshape(B, K)
    v_cd = ((net.loss.of_yhat(y_hat + moved, y) - net.loss.of_yhat(y_hat - moved, y)) / (2 * step)).reshape(B, K)

    f, g = net.f.label(), net.g.label()
    specs = [
        ("∂z2/∂z1", f"diagonal of M = ∂{f}(z1)/∂z1", m_an, m_cs, m_cd, m_kink, _size(c.z2)),
        ("∂ŷ/∂z3", f"P = ∂{g}(z3)/∂z3, full", p_an, p_cs, p_cd, p_kink, _size(c.y_hat)),
        ("∂ℓ/∂ŷ", f"V = ∂{net.loss.name}/∂ŷ", j.dloss_dyhat, v_cs, v_cd, None, _size(net.loss.of_yhat(y_hat, y))),
    ]
    return [
        ArrayCheck(name, stage, compare(name, an, cs, dtype, "complex"),
            compare(name, an, cd, dtype, "central", kink, value=value))
        for name, stage, an, cs, cd, kink, value in specs
    ]


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
            y = np.eye(K)[rng.integers(0, K, size=batch)]
    return x, y
