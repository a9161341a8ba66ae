"""`twonet check --impl`: a student's forward and backward code driven on every case and judged
against twonet's exact values, quantity by quantity, beside the course's own criterion."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..check.impl import GRADS, QUANTITIES, Verdict, course_passes, in_cache, judge
from ..core.model import Net
from ..errors import InputError, path_kind
from .cases import Case, function_cases, skeleton_cases
from .run import Outcome, drive

SKELETON_QUANTITIES = tuple(QUANTITIES)  # ŷ, J, ∂J/∂ŷ and the four gradients


@dataclass(frozen=True)
class ImplReport:
    """Every case's verdicts, and the course's criterion per case (None where it does not apply)."""

    spec: str
    form: str  # skeleton | function
    torch: bool
    cases: list[Case]
    verdicts: list[dict[str, Verdict]]
    course: list[bool | None]
    stopped: str
    absent: list[str]  # the skeleton's loss functions the file does not have (their cases are left out)
    intermediates: dict[str, list[str]]  # z1, z2, z3 → the cache names holding it exactly in every case run
    notes: dict[str, int]  # a mistake no quantity shows (a clear that does not clear) → the first case showing it

    @property
    def quantities(self) -> tuple[str, ...]:
        """What is compared: for the skeleton ŷ, J, ∂J/∂ŷ and the gradients; for a function the gradients."""
        return SKELETON_QUANTITIES if self.form == "skeleton" else GRADS

    @property
    def passed(self) -> bool:
        """Every quantity of every case exact (or right to float32, where the code computes in float32)."""
        return (bool(self.cases) and not self.stopped and not self.notes
                and all(v.passed for case in self.verdicts for v in case.values()))

    def lucky(self) -> list[int]:
        """Cases the course's test passes though a gradient is wrong."""
        return [i for i, (ok, vs) in enumerate(zip(self.course, self.verdicts, strict=True))
                if ok and not all(vs[q].passed for q in GRADS)]


def parse_spec(spec: str) -> tuple[str, str, str | None]:
    """(the file or module, its form, the function): mlp.py is the skeleton; FILE.py:NAME or
    package.module:NAME is a function grads(params, x, y)."""
    target, sep, function = spec.rpartition(":")
    if not sep or spec.endswith(".py"):  # a path may hold a ':' of its own
        target, sep, function = spec, "", ""
    form = "function" if sep else "skeleton"
    if not target:
        raise InputError(f"--impl: '{spec}' names no file or module before the ':'")
    if not sep and not target.endswith(".py"):
        raise InputError(f"--impl: '{spec}' is neither a .py file (the course's skeleton) nor MODULE:FUNCTION")
    if sep and not function.isidentifier():
        raise InputError(f"--impl: '{function}' is not a function's name")
    if target.endswith(".py") or "/" in target:
        kind = path_kind(Path(target), "--impl")
        if kind != "file":
            raise InputError(f"--impl: {'file' if kind == 'missing' else 'path'} '{target}' "
                             f"{'not found' if kind == 'missing' else 'is not a file'}")
    return target, form, function or None


def verify(spec: str, net: Net, shape: tuple[int, int, int], timeout: float, memory_mb: int) -> ImplReport:
    """Drive the code on its cases and judge each (the config's net and shape serve the function form)."""
    target, form, function = parse_spec(spec)
    cases = skeleton_cases() if form == "skeleton" else function_cases(net, shape)
    outcome = drive(target, form, function, cases, timeout, memory_mb)
    losses = set(outcome.loaded.get("losses", ["mse", "bce", "cross_entropy"]))
    kept = [(i, c) for i, c in enumerate(cases) if c.net.loss.name in losses]  # the skeleton's losses it has
    verdicts = [_judged(outcome, i, c, form) for i, c in kept]
    course = [course_passes(outcome.given(i, "course"), c.exact) if form == "skeleton" else None for i, c in kept]
    at = next((k for k, (i, _) in enumerate(kept) if i == outcome.stopped_case), None)
    stopped = f"case {at + 1}: {outcome.stopped}" if at is not None else outcome.stopped
    missing = sorted({c.net.loss.name for c in cases} - losses)
    found = [in_cache(outcome.cache(i), c.exact) for i, c in kept if i in outcome.results]
    intermediates = {z: sorted(set.intersection(*(set(f[z]) for f in found))) if found else []
                     for z in ("z1", "z2", "z3")}
    notes: dict[str, int] = {}
    for k, (i, _) in enumerate(kept):
        for note in outcome.results.get(i, {}).get("values", {}).get("notes", []):
            notes.setdefault(str(note), k)
    torch = bool(outcome.loaded.get("torch")) and form == "skeleton"  # a function is given numpy arrays
    return ImplReport(spec, form, torch, [c for _, c in kept], verdicts, course, stopped,
                      [f"{loss}_loss" for loss in missing], intermediates, notes)


def _judged(outcome: Outcome, i: int, case: Case, form: str) -> dict[str, Verdict]:
    asked = SKELETON_QUANTITIES if form == "skeleton" else GRADS
    given = outcome.given(i)
    verdicts = judge(case.exact, case.net, {q: given.get(q) for q in asked}, outcome.errors(i))
    return {q: verdicts[q] for q in asked}
