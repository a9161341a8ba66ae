"""Mark a hand-worked answer against its key, as PrairieLearn marks numbers: an item is correct when
every entry is within ``atol + rtol·|key|`` of the key (numpy.isclose's rule). A wrong item gets
the mistake in words — a transpose, a sign, a factor with its known cause (the ×5 of the ReLU, a
reduction off by N), a few wrong entries, the wrong shape — by the diagnoses of ``diagnose``, taken
at the marking's tolerance. Pure numpy: reading submissions and writing gradebooks live elsewhere.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..core.activations import Array
from ..core.model import Net
from .diagnose import Cause, causes, factor

# What a sheet asks for, in the exercise's order: the forward pass, the loss, the four gradients
ITEMS = ("z1", "z2", "z3", "y_hat", "loss", "dW1", "db1", "dW2", "db2")
GRADIENTS = {"dW1": "W1", "db1": "b1", "dW2": "W2", "db2": "b2"}  # item → the parameter it is ∂ℓ/∂ of
WORDS = {"z1": "z1", "z2": "z2", "z3": "z3", "y_hat": "ŷ", "loss": "ℓ", "dy_hat": "∂ℓ/∂ŷ",
         **{item: f"∂ℓ/∂{p}" for item, p in GRADIENTS.items()}}


@dataclass(frozen=True)
class Mark:
    """The verdict on one item: correct, or the kind of mistake and feedback in words."""

    item: str
    correct: bool
    # correct | missing | unreadable | shape | transposed | swapped | sign | factor | entries | wrong | variant
    kind: str
    feedback: str
    cause: str = ""  # the known cause of a factor or a sign, in a few words (class statistics group by it)


@dataclass(frozen=True)
class Tolerance:
    """An entry is correct when |given − key| ≤ atol + rtol·|key|."""

    rtol: float = 1e-3
    atol: float = 1e-6
    digits: int = 6  # significant digits of the numbers a message shows

    def close(self, given: Array, key: Array) -> Array:
        """Entry by entry: within tolerance of the key (numpy.isclose's rule, for a finite key; NaN never is)."""
        return np.asarray(np.abs(given - key) <= self.atol + self.rtol * np.abs(key))

    def all_close(self, given: Array, key: Array) -> bool:
        """The same shape, and every entry within tolerance."""
        return given.shape == key.shape and bool(self.close(given, key).all())


@dataclass(frozen=True)
class Answer:
    """One item as a student gave it: the array, and whether they named it transposed (``dW1.T``)."""

    value: Array
    transposed: bool = False


@dataclass(frozen=True)
class Graded:
    """One student's marks, points per item (weight × correct) and what the grader should know."""

    student: str
    marks: dict[str, Mark]
    points: dict[str, float]
    note: str = ""  # for the instructor only (e.g. whose variant a submission answers)

    @property
    def total(self) -> float:
        """The points of every item."""
        return float(sum(self.points.values()))


def line_up(answer: Answer, key: Array) -> Array | None:
    """The answer in the key's shape, where it can be lined up without a guess: a vector (or a
    number) in any orientation — (K,), (1, K), (K, 1) — and a matrix named transposed, turned back.
    None when the shapes differ otherwise."""
    a = answer.value.T if answer.transposed else answer.value
    if a.shape == key.shape:
        return a
    vector = sum(d > 1 for d in key.shape) <= 1
    if vector and a.size == key.size and sum(d > 1 for d in a.shape) <= 1:
        return a.reshape(key.shape)
    return None


def where(item: str, index: tuple[int, ...]) -> str:
    """An entry named as the feedback names it: dW1[0, 1]."""
    return f"{item}[{', '.join(map(str, index))}]" if index else item


def mark(item: str, answer: Answer | None, keys: dict[str, Array], tol: Tolerance, net: Net, B: int,
         K: int) -> Mark:
    """The verdict on ``item`` (one of ITEMS) given ``answer`` and every item's key (for swapped items)."""
    key = keys[item]
    words = WORDS[item]
    if answer is None:
        return Mark(item, False, "missing", f"{words}: not in your submission")
    a = line_up(answer, key)
    if a is None:
        return _misshaped(item, answer.value, key, keys, tol)
    if tol.all_close(a, key):
        return Mark(item, True, "correct", f"{words}: correct")
    close = max(tol.rtol, 1e-6)
    if key.ndim == 2 and key.shape[0] == key.shape[1] > 1 and tol.all_close(a.T, key):
        return Mark(item, False, "transposed", f"{words} is transposed: your rows are the key's columns")
    swapped = _swapped(item, a, keys, tol)
    if swapped is not None:
        return swapped
    c = factor(a, key, close)
    if c is not None and abs(c - 1) > close and tol.all_close(a, c * key):  # entry by entry, as the marks
        why = _causes(c, item, net, B, K, close)
        kind = "sign" if abs(c + 1) <= close else "factor"
        # one number is a multiple of any other, and rounding is a factor near 1: only a known cause counts then
        if (key.size > 1 and abs(c - 1) > NEAR_ONE) or kind == "sign" or why:
            said = "has the wrong sign" if kind == "sign" else f"is ×{c:.4g} the right value"
            text = f"{words} {said}" + (f": {'; or '.join(k.text for k in why)}" if why else "")
            return Mark(item, False, kind, text, why[0].label if len(why) == 1 else "")
    wrong = np.argwhere(~tol.close(a, key))
    if key.size == 1:
        return Mark(item, False, "wrong", f"{words} is {a.item():.{tol.digits}g}, not {key.item():.{tol.digits}g}")
    if 0 < len(wrong) <= 3 and len(wrong) < key.size:
        d = tol.digits
        shown = ", ".join(f"{where(item, tuple(map(int, w)))} is {a[tuple(w)]:.{d}g}, not {key[tuple(w)]:.{d}g}"
                          for w in wrong)
        return Mark(item, False, "entries", f"{words}: {len(wrong)} of {key.size} entries wrong: {shown}")
    off = float(np.abs(a - key).max())
    scale = float(np.abs(key).max(initial=0.0))
    near = f"; off by at most {off:.3g}" + (f" (relative {off / scale:.2g}: close, not right)" if scale and
                                             off < 1e-2 * scale else "")
    return Mark(item, False, "wrong",
                f"{words}: {len(wrong)} of {key.size} entries wrong, with no simple pattern{near}")


def _causes(c: float, item: str, net: Net, B: int, K: int, close: float) -> list[Cause]:
    """Known reasons for an item that is c times the key: check's for a gradient, the reduction for ℓ."""
    if item in GRADIENTS:  # a cause upstream of the split would change all four: said by all_four, not here
        return [k for k in causes(c, GRADIENTS[item], net, B, K, close) if not k.upstream]
    if item == "dy_hat":  # ∂ℓ/∂ŷ: every cause upstream of the chain's split is one of its own
        return causes(c, "all", net, B, K, close)
    if item == "loss" and abs(c - 1) > close:
        n = net.loss.mean_divisor(B, K)
        summed = "summed where the loss is the mean"
        known = [Cause(float(n), summed, f"{summed} (of {n} terms)")] if net.loss.reduction == "mean" else [
            Cause(1 / n, "averaged where the loss is the sum", f"averaged (over {n} terms) where the loss is the sum")]
        if net.loss.reduction == "mean" and net.loss.name != "cross_entropy" and B > 1 and K > 1:
            known += [Cause(float(K), "divided by B only", f"divided by B only, not B·K (×K = {K})"),
                      Cause(float(B), "divided by K only", f"divided by K only, not B·K (×B = {B})")]
        return [k for k in known if abs(c - k.factor) <= close * abs(k.factor)]
    return []


def _misshaped(item: str, a: Array, key: Array, keys: dict[str, Array], tol: Tolerance) -> Mark:
    words = WORDS[item]
    if key.ndim == 2 and a.shape == key.T.shape:
        values = "its values are right once turned" if tol.all_close(a.T, key) else "and its values differ too"
        return Mark(item, False, "transposed", f"{words} is transposed: {a.shape} given, {key.shape} expected "
                    f"(weights are (out, in)); {values}. Name it {item}.T if you mean the transpose")
    return _swapped(item, a, keys, tol) or Mark(item, False, "shape", f"{words} has shape {a.shape}, expected "
                                                                  f"{key.shape}")


def _swapped(item: str, a: Array, keys: dict[str, Array], tol: Tolerance) -> Mark | None:
    """The mark of an answer that is another item's value (of its shape), or None."""
    other = next((o for o, k in keys.items() if o != item and k.shape == a.shape and tol.all_close(a, k)), None)
    return None if other is None else Mark(item, False, "swapped", f"{WORDS[item]}: you gave the value of "
                                                                   f"{WORDS[other]}")


def mark_all(answers: dict[str, Answer], keys: dict[str, Array], tol: Tolerance, net: Net, B: int,
             K: int) -> dict[str, Mark]:
    """Every item marked; one factor on all four gradients is said once, with its cause upstream
    (∂ℓ/∂z3 before the chain splits), where each alone would be misread."""
    marks = {item: mark(item, answers.get(item), keys, tol, net, B, K) for item in ITEMS}
    lined = {i: line_up(answers[i], keys[i]) if i in answers and not marks[i].correct else None for i in GRADIENTS}
    marks.update(all_four(lined, keys, max(tol.rtol, 1e-6), net, B, K))
    return marks


def all_four(given: dict[str, Array | None], keys: dict[str, Array], close: float, net: Net, B: int,
             K: int, upstream: bool = True) -> dict[str, Mark]:
    """When the four gradients (lined up, None where right or unreadable) share one factor, each one's
    mark says so, with the cause upstream of the chain's split (in the loss, unless ``upstream`` is
    False: then ∂ℓ/∂ŷ was given exact, and the factor was put on ∂ℓ/∂z3 in backward); else no marks."""
    found = [factor(a, keys[i], close) if a is not None else None for i, a in given.items()]
    if not (all(c is not None for c in found) and np.ptp(np.array(found, dtype=float)) <= close * abs(found[0] or 1)):
        return {}
    c = float(found[0] or 0.0)  # a one-entry gradient is a multiple of anything: it counts when it agrees
    why = causes(c, "all", net, B, K, close) if upstream else [
        Cause(c, "a factor in backward", "a factor put on ∂ℓ/∂z3 in backward, before the chain splits (∂ℓ/∂ŷ was "
              "given exact)")]
    kind = "sign" if abs(c + 1) <= close else "factor"
    said = "has the wrong sign, like" if kind == "sign" else f"is ×{c:.4g} the right value, like"
    return {i: Mark(i, False, kind, f"{WORDS[i]} {said} all four gradients" + (f": {why[0].text}" if why else ""),
                    why[0].label if len(why) == 1 else "") for i in given}


def unreadable(reason: str) -> dict[str, Mark]:
    """Every item 0 with the same reason: a submission that cannot be read at all."""
    return {item: Mark(item, False, "unreadable", reason) for item in ITEMS}


NEAR_ONE = 0.05  # a fitted factor within 5% of 1, with no known cause, is rounding or a few wrong entries: not named
NOT_DIAGNOSED = ("missing", "unreadable", "variant")  # zero marks that say nothing about the mathematics


@dataclass
class ItemStats:
    """One item across the class: how many were right, and the mistakes in order of frequency."""

    item: str
    correct: int = 0
    marked: int = 0
    mistakes: Counter[str] = field(default_factory=Counter)  # diagnosed mistakes (not missing or unreadable)

    @property
    def share(self) -> float:
        """The share of marked submissions with this item right."""
        return self.correct / self.marked if self.marked else 0.0

    @property
    def commonest(self) -> str:
        """The commonest mistake and how many made it, e.g. "factor (4)"."""
        if not self.mistakes:
            return ""
        kind, count = self.mistakes.most_common(1)[0]
        return f"{kind} ({count})"


def class_stats(results: list[Graded]) -> list[ItemStats]:
    """Per item: the share correct and the commonest mistake (missing submissions not counted)."""
    stats = {item: ItemStats(item) for item in ITEMS}
    for r in results:
        if all(m.kind == "missing" for m in r.marks.values()):
            continue
        for item, m in r.marks.items():
            s = stats[item]
            s.marked += 1
            if m.correct:
                s.correct += 1
            elif m.kind not in NOT_DIAGNOSED:
                s.mistakes[f"{m.kind}: {m.cause}" if m.cause else m.kind] += 1
    return list(stats.values())
