"""The report of `twonet check --impl`: per case, each quantity exact or its mistake; per quantity,
the first case that shows a mistake and the mistake in words; and the course's criterion beside."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..check.impl import COURSE_NORM, GRADS
from ..console import shown
from ..student.verify import ImplReport

HEAD = {"y_hat": "ŷ", "J": "J", "dJdy_hat": "∂J/∂ŷ", "dJdW1": "∂W1", "dJdb1": "∂b1", "dJdW2": "∂W2", "dJdb2": "∂b2"}
WORDS = {"y_hat": "ŷ = forward(x)", "J": "J", "dJdy_hat": "∂J/∂ŷ", "dJdW1": "∂J/∂W1", "dJdb1": "∂J/∂b1",
         "dJdW2": "∂J/∂W2", "dJdb2": "∂J/∂b2"}
SIGNS = {"exact": "✓", "float32": "≈", "derivative": "f′", "error": "err", "missing": "·", "shape": "shp",
         "transposed": "ᵀ", "swapped": "swp", "sign": "±", "factor": "×c", "entries": "few", "wrong": "✗"}
LEGEND = ("✓ exact  ≈ right to float32  f′ a wrong activation derivative  ×c off by a factor  ± sign  ᵀ transposed  "
          "few a few entries wrong  ✗ wrong  shp wrong shape  swp another quantity's value  err raised an error  "
          "· not produced")


def cases_table(r: ImplReport) -> Table:
    """One row per case: each quantity's mark, and the course's test."""
    course = r.form == "skeleton"
    t = Table("#", "case", *(HEAD[q] for q in r.quantities), *(["course"] if course else []),
              title="Cases with a mistake (every other case: all exact)", title_justify="left", caption=LEGEND,
              caption_justify="left")
    for i, (case, verdicts) in enumerate(zip(r.cases, r.verdicts, strict=True)):
        if all(v.passed for v in verdicts.values()) and r.course[i] in (True, None):
            continue
        marks = [f"[green]{SIGNS[v.kind]}[/green]" if v.passed else f"[red]{SIGNS.get(v.kind, '✗')}[/red]"
                 for v in verdicts.values()]
        extra = [] if not course else ["[green]pass[/green]" if r.course[i] else "[red]fail[/red]"]
        t.add_row(str(i + 1), case.label, *marks, *extra)
    return t


def findings_table(r: ImplReport) -> Table:
    """Per quantity: in how many cases it is exact, and the first case that shows a mistake."""
    t = Table("quantity", "exact", "first wrong in", "what is wrong", title="Findings", title_justify="left")
    for q in r.quantities:
        verdicts = [v[q] for v in r.verdicts]
        wrong = [(i, v) for i, v in enumerate(verdicts) if not v.passed]
        ok = len(verdicts) - len(wrong)
        first = f"case {wrong[0][0] + 1}" if wrong else ""
        t.add_row(WORDS[q], f"{ok}/{len(verdicts)}", first, shown(wrong[0][1].message) if wrong else "")
    return t


def impl_report(r: ImplReport) -> Group:
    """The cases, the findings, and the verdict with the course's criterion beside twonet's."""
    kind = ("the course's skeleton (MLP, mse_loss, bce_loss)" if r.form == "skeleton" else
            "a function grads(params, x, y)")
    arrays = "torch tensors" if r.torch else "numpy arrays"
    parts: list[Table | Text | str] = [
        f"[bold]{shown(r.spec)}[/bold]: {kind}, driven with {arrays} on {len(r.cases)} cases, in a child process.",
        *([cases_table(r)] if not r.passed else []), findings_table(r)]
    if r.form == "skeleton":
        held = [f"{z} as {', '.join(f'cache[{k!r}]' for k in names)}" if names else f"{z} nowhere"
                for z, names in r.intermediates.items()]
        parts.append(f"Intermediates your forward keeps, in every case: {shown('; '.join(held))}.")
    for note, case in r.notes.items():
        parts.append(f"[red]{shown(note)}[/red] (first in case {case + 1}).")
    if r.absent:
        parts.append(f"The file has no {', '.join(r.absent)}: those cases were left out.")
    if r.stopped:
        parts.append(f"[red]Stopped at {shown(r.stopped)}[/red]; the cases after it did not run.")
    exact = sum(all(v.passed for v in vs.values()) for vs in r.verdicts)
    if r.form == "skeleton":
        course = sum(bool(c) for c in r.course)
        parts.append(f"The course's test (‖yours − autograd‖₂ < {COURSE_NORM:g} for each gradient) passes in "
                     f"{course} of {len(r.cases)} cases; twonet's exact check in {exact}.")
        lucky = r.lucky()
        if lucky:
            which = ", ".join(str(i + 1) for i in lucky[:12]) + ("…" if len(lucky) > 12 else "")
            parts.append(f"[yellow]The course's test passes by luck in case(s) {which}[/yellow]: a gradient is wrong "
                         "there, by less than its threshold (small gradients, or a mistake that shows only at a "
                         "ReLU's kink).")
    wrong_grads = any(not vs[q].passed for vs in r.verdicts for q in GRADS)
    rounded = sum(v.kind == "float32" for vs in r.verdicts for v in vs.values())
    note = f" ({rounded} to float32's precision: the code computes in float32)" if rounded else ""
    ran = len(r.cases) if not r.stopped else sum(any(v.kind not in ("missing", "error") or v.passed
                                                        for v in vs.values()) for vs in r.verdicts)
    verdict = f"[bold green]PASSED[/bold green]: every quantity exact in every case{note}" if r.passed else (
        f"[bold red]FAILED[/bold red]: {ran - exact} of {ran} cases run have a wrong quantity"
        + (f" ({len(r.cases) - ran} did not run)" if ran < len(r.cases) else "")
        + ("" if wrong_grads or not r.cases else " (the gradients themselves are right)")
        + (f"; and {len(r.notes)} mistake(s) named above" if r.notes else ""))
    parts.append(verdict)
    return Group(*parts)
