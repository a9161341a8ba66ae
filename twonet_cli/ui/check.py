"""Rich renderables for `twonet check`: one row per parameter and Jacobian, then what is wrong."""

from __future__ import annotations

import numpy as np
from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..check.compare import ROUNDING, Comparison, tolerances, underflow
from ..check.numeric import COMPLEX_H, central_step
from ..check.report import ArrayCheck, CheckReport
from ..console import shown


def _g(v: float) -> str:
    if not np.isfinite(v):
        return "—"
    return f"{v:.1e}" if v else "0"


def _max(c: Comparison, what: str) -> float:
    values = c.rel_err if what == "rel" else c.abs_err
    return float(np.where(c.counted, values, 0).max(initial=0.0))


def _worst(c: Comparison) -> str:
    i = c.worst()
    if not np.isfinite(c.analytic).all():
        return "—  (see Diagnosis)"
    if (not i and c.analytic.ndim) or not c.counted.any():
        return "—"
    return f"[{','.join(map(str, i))}] {c.analytic[i]:.5g} / {c.numeric[i]:.5g}"


def _skipped(row: ArrayCheck) -> int:
    """Entries left unjudged in this row: kinks, unreliable central differences, not checkable."""
    return int(row.central.kinks.sum()) + int(row.unreliable.sum()) + row.primary.waived_count


def _verdict(r: CheckReport, row: ArrayCheck) -> Text:
    if r.row_passed(row):
        return Text("✓ pass", style="green")
    return Text("✗ FAIL", style="bold red")


def _row(t: Table, r: CheckReport, row: ArrayCheck) -> None:
    p, c = row.primary, row.central
    sampled = "" if c.checked is None else f" ({c.entries:,})"
    t.add_row(Text(row.name), _verdict(r, row), f"{p.entries:,}", _g(_max(p, "rel")),
              _g(_max(c, "rel")) + sampled, str(_skipped(row)), Text(_worst(p)))


def results_table(r: CheckReport) -> Table:
    """One row per parameter and per local Jacobian: verdict first (it must survive 80 columns),
    entries, largest relative errors, entries skipped, worst entry (absolute errors: --json)."""
    t = Table(title="Analytic gradients vs the complex step (primary) and central differences",
              title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("check", no_wrap=True, min_width=7)
    t.add_column("verdict", no_wrap=True, min_width=6)
    for col in ("entries", "max rel", "central", "skipped"):
        t.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    t.add_column("worst entry: analytic / numeric", min_width=16)
    for row in r.params:
        _row(t, r, row)
    t.add_section()
    for row in r.jacobians:
        _row(t, r, row)
    return t


def failures(r: CheckReport, count: int) -> list[Text]:
    """The worst failing entries of each array, as lines."""
    out = []
    for row in r.params + r.jacobians:
        if not np.isfinite(row.primary.analytic).all():
            continue  # a gradient that could not be lined up with its parameter: the diagnosis says why
        for ref, c in (("complex step", row.primary), ("central differences", row.central)):
            top = c.top_failures(count)
            for index, a, n, rel in top:
                out.append(Text(f"  {row.name}[{', '.join(map(str, index))}]: analytic {a:.10g} vs {ref} {n:.10g} "
                                f"(rel err {rel:.2e})"))
            extra = int(c.failing.sum()) - len(top)
            if extra > 0:
                out.append(Text(f"  … and {extra:,} more entries of {row.name}", style="dim"))
            if top or extra > 0:
                break  # the complex step already names them; central differences would repeat it
    return out


def thresholds(r: CheckReport) -> list[str]:
    """The thresholds and formulas behind the verdicts, as note lines."""
    dtype = np.dtype(r.dtype)
    eps = float(np.finfo(dtype).eps)
    rc, ac = tolerances(dtype, "complex")
    rd, ad = tolerances(dtype, "central")
    h = central_step(dtype)
    lines = [
        f"complex step Im ℓ(θ + ih)/h, h = {COMPLEX_H:g}: an entry fails if rel err > {rc:.1e} and abs err > "
        f"{ac:.0e}·max|∂ℓ/∂θ|, > {ROUNDING}·ε·(the size of the terms it is summed from), and > underflow "
        f"({underflow(dtype, 'complex'):.0e}); only the complex step decides",
        f"central differences (ℓ(θ+h) − ℓ(θ−h))/2h, h = ε^(1/3)·max(1, |θ|) = {h:.1e}·max(1, |θ|): "
        f"rel err > {rd:.1e} and abs err > max({ad:.0e}·max|∂ℓ/∂θ|, 10·ε·|ℓ|/h)",
        "rel err = |a − n| / (|a| + |n|); worst entry: the one nearest to failing. Skipped: kinks (entries "
        "whose step moves some z1 across 0, where a ReLU's slope jumps), central differences that disagree "
        "where the complex step agrees, and entries not checkable in float64 — each counted and named",
    ]
    if dtype == np.float32:
        lines.append(
            f"float32: ε = {eps:.1e} (float64: 2.2e-16). The analytic gradient itself carries rounding ≈ ε × the "
            f"terms it sums, and central differences add truncation O(h²) and rounding O(ε/h), at best ≈ ε^(2/3) "
            f"= {eps ** (2 / 3):.0e}: that is why every error above is millions of times larger than in float64."
        )
    return lines


def verdict_line(r: CheckReport) -> Text:
    """The one-line PASS or FAIL under the table."""
    worst = max(float(np.where(row.primary.counted & ~row.primary.within_rounding, row.primary.rel_err, 0)
                      .max(initial=0.0)) for row in r.params)
    cancel = sum(int(row.primary.within_rounding.sum()) for row in r.params)
    eps = float(np.finfo(np.dtype(r.dtype)).eps)
    if r.passed:
        near = f" ({r.dtype} rounding: ε = {eps:.1e})" if worst < 1e4 * eps else ""
        kinks = f"; {r.kinks:,} kink entries were left to the complex step" if r.kinks else ""
        skipped = sum(n for _, n, _ in r.waivers())
        waived = f"; {skipped:,} entr{'y' if skipped == 1 else 'ies'} unjudged, named below" if skipped else ""
        sums = (f"; {cancel:,} whose terms cancel agree to the rounding of those terms" if cancel else "")
        return Text(f"PASS: all {r.entries:,} entries of W1, b1, W2, b2 agree with the complex step to "
                    f"{_g(worst)}{near}{sums}{kinks}{waived}.", style="bold green")
    bad = [row.name for row in r.params + r.jacobians if not r.row_passed(row)]
    return Text(f"FAIL: {', '.join(bad)} do not match the numerical derivatives (exit code 1).", style="bold red")


def check_report(r: CheckReport, source: str, description: str, shape: tuple[int, int, int], batch: str,
                 failures_shown: int) -> RenderableType:
    """Everything `twonet check` prints, top to bottom."""
    n, m, K = shape
    head = Panel(
        f"network {n} → {m} → {K}   dtype {r.dtype}\n"
        f"batch {shown(batch)}\n"
        f"gradients checked: {shown(r.source)}",
        title=f"[bold]{shown(source)}[/bold]" + (f" — {shown(description)}" if description else ""),
        title_align="left", expand=False,
    )
    parts: list[RenderableType] = [head, results_table(r), verdict_line(r)]
    if r.findings:
        parts.append(Panel("\n".join(f"• {shown(f.message)}" for f in r.findings), title="[bold]Diagnosis[/bold]",
                           title_align="left", border_style="red", expand=False))
    parts += [Text(f"skipped: {name}: {n:,} entr{'y' if n == 1 else 'ies'} {why}", style="yellow")
              for name, n, why in r.waivers()]
    fails = failures(r, failures_shown)
    if fails:
        parts += [Text("Failing entries (worst first):", style="bold"), *fails]
    parts += [Text(f"note: {line}", style="dim") for line in thresholds(r)]
    return Group(*parts)


def step_table(curve: list[tuple[float, float, float]], dtype: str) -> RenderableType:
    """`--steps`: central-difference error against the step size h, with its model h²/6 + ε/h."""
    eps = float(np.finfo(np.dtype(dtype)).eps)
    t = Table(title=f"Central differences against the complex step, by step h ({dtype})", title_justify="left",
              title_style="bold")
    for col in ("h", "max rel err", "median rel err", "log₁₀ median", "model h²/6 + ε/h"):
        t.add_column(col, justify="right" if col != "log₁₀ median" else "left")
    best = min(curve, key=lambda c: c[2])[0]
    for h, mx, med in curve:
        bar = "█" * max(1, round(17 + float(np.log10(max(med, 1e-17)))))
        label = f"{h:.0e}" + (" ◀ best" if h == best else "")
        t.add_row(label, _g(mx), _g(med), bar, _g(h * h / 6 + eps / h))
    note = Text(
        f"Truncation error falls as h², rounding error grows as ε/h (ε = {eps:.1e}); their sum is least near "
        f"h ≈ ε^(1/3) = {eps ** (1 / 3):.0e}, which `twonet check` uses. The complex step has no ε/h term.",
        style="dim",
    )
    return Group(t, note)
