"""Rich renderables for `twonet grads`: every intermediate, Jacobian and gradient. Never prints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..console import shown
from ..core.activations import Activation, Array
from ..core.explain import Explanation
from ..core.jacobians import as_matrix
from ..core.model import CHAIN_RULE

if TYPE_CHECKING:  # imported with training only when --lr asks for a step
    from ..train.sgd import Step

Cells = tuple[str, ...]  # the label cells of a table row (the array is the last column)


@dataclass(frozen=True)
class View:
    """How to show arrays: digits, elision, full Jacobians, which sample, terminal width."""

    precision: int = 6  # digits after the decimal point
    max_size: int = 64  # arrays with more entries are elided (… with the shape shown)
    full: bool = False  # show diagonal Jacobians as full matrices
    sample: int = 0  # which sample of a batch the per-sample tables show
    width: int = 100  # terminal columns; arrays wrap to the space the labels leave


def fmt_array(a: Array, view: View, width: int | None = None) -> str:
    """numpy's own printing, fixed-point with aligned columns, elided beyond ``view.max_size`` entries."""
    a = np.asarray(a) + 0.0  # + 0.0 shows −0.0 (a masked negative gradient) as 0
    if a.ndim == 0:
        return np.format_float_positional(float(a), precision=view.precision, trim="-")
    return np.array2string(
        a,
        precision=view.precision,
        threshold=view.max_size,
        edgeitems=3,
        max_line_width=width or view.width,
        floatmode="maxprec",
        suppress_small=True,
    )


def shape_of(a: Array) -> str:
    """'3×2', or 'scalar'."""
    return "×".join(map(str, np.shape(a))) or "scalar"


def _longest_line(s: str) -> int:
    return max(map(len, s.splitlines() or [""]))


def array_table(title: str, columns: Cells, rows: Sequence[tuple[Cells, Array]], view: View) -> Table:
    """A table of labelled arrays; the arrays wrap to the width the label columns leave free."""
    labels = [max([len(c), *(_longest_line(r[i]) for r, _ in rows)]) + 3 for i, c in enumerate(columns[:-1])]
    width = max(36, view.width - sum(labels) - 4)
    t = Table(title=title, title_justify="left", title_style="bold", show_lines=True)
    for c in columns[:-1]:
        t.add_column(c, no_wrap=True, min_width=len(c))
    t.add_column(columns[-1], overflow="fold")
    for label, a in rows:
        value = Text(fmt_array(a, view, width))
        if np.size(a) > view.max_size:
            value.append(f"\n({shape_of(a)}, elided: --max-size {np.size(a)} shows all)", style="dim")
        t.add_row(*(Text(c) for c in label), value)  # Text: formulas like [z1ᵢ > 0] are not markup
    return t


def header(e: Explanation, source: str, description: str) -> RenderableType:
    """The panel naming the config, the network and the loss."""
    n, m, K = e.params.shape
    net = e.net
    title = f"[bold]{shown(source)}[/bold]" + (f" — {shown(description)}" if description else "")
    body = (
        f"network  {n} → {m} → {K}   f = {net.f.label()}   g = {net.g.label()}\n"
        f"loss     {net.loss.name}, reduction {net.loss.reduction}   batch B = {e.batch}"
    )
    return Panel(body, title=title, title_align="left", expand=False)


def params_table(e: Explanation, view: View) -> Table:
    """W1, b1, W2, b2 with their shapes."""
    rows = [((name, shape_of(a)), a) for name, a in e.params.items()]
    return array_table("Parameters", ("name", "shape", "value"), rows, view)


def forward_table(e: Explanation, view: View) -> Table:
    """x → z1 → z2 → z3 → ŷ for one sample, with the target."""
    c, i = e.cache, view.sample
    f, g = e.net.f.label(), e.net.g.label()
    rows = [
        (("Linear₁", "x", "z1 = W1 x + b1"), c.z1[i]),
        (("f", "z1", f"z2 = {f}(z1)"), c.z2[i]),
        (("Linear₂", "z2", "z3 = W2 z2 + b2"), c.z3[i]),
        (("g", "z3", f"ŷ = {g}(z3)"), c.y_hat[i]),
    ]
    rows = [(("", "", "x"), c.x[i]), *rows, (("", "", "target y"), e.y[i])]
    return array_table(f"Forward pass (sample {i} of {e.batch})", ("step", "input", "output", "value"), rows, view)


def loss_line(e: Explanation, view: View) -> Text:
    """The reduced loss, saying what it is a mean or sum over."""
    loss = e.net.loss
    over = "B samples" if loss.unit == "sample" else "B·K elements"
    how = f"{'mean' if loss.reduction == 'mean' else 'sum'} over the {over}"
    value = np.format_float_positional(e.loss, precision=max(view.precision, 1), trim="-")
    return Text.from_markup(f"[bold]loss[/bold]  ℓ = {value}   ({loss.name}, {how}, B = {e.batch})")


def _jacobian(jacobian: Array, view: View) -> Array:
    """One sample's Jacobian as shown: a diagonal as its diagonal, unless --full asks for the matrix."""
    return as_matrix(jacobian) if view.full else jacobian


def _kind(fn: Activation, view: View) -> str:
    if not fn.elementwise:
        return "full"
    return "diagonal" if view.full else "diagonal,\nshown: its diagonal"


def formula(fn: Activation, out: str, inp: str, sym: str) -> str:
    """The Jacobian's entries as text, e.g. 'Mᵢᵢ = 5·[z1ᵢ > 0]' for ``sym='M'``."""
    d = f"{sym}ᵢᵢ ="
    match fn.name:
        case "identity":
            return f"{sym} = I"
        case "relu":
            c = "" if fn.scale == 1 else f"{fn.scale:g}·"
            return f"{d} {c}[{inp}ᵢ > 0]"
        case "leaky_relu":
            return f"{d} 1 if {inp}ᵢ > 0 else {fn.slope:g}"
        case "tanh":
            return f"{d} 1 − {out}ᵢ²"
        case "sigmoid":
            return f"{d} {out}ᵢ (1 − {out}ᵢ)"
        case "softplus":
            return f"{d} σ({inp}ᵢ)"
    return f"{sym} = diag({out}) − {out} {out}ᵀ"


def dloss_dyhat_formula(e: Explanation) -> str:
    """docs/exercise.md's formula for ∂ℓ/∂ŷ, with the reduction's ÷ N."""
    loss = e.net.loss
    per = {"mse": "V = 2 (ŷ − y)ᵀ", "bce": "Vᵢ = (1 − yᵢ)/(1 − ŷᵢ) − yᵢ/ŷᵢ", "cross_entropy": "Vᵢ = −yᵢ / ŷᵢ"}
    return f"{per[loss.name]}, ÷ N" if loss.reduction == "mean" else per[loss.name]


def jacobian_table(e: Explanation, view: View) -> Table:
    """M = ∂z2/∂z1, P = ∂ŷ/∂z3 and V = ∂ℓ/∂ŷ for one sample, with their formulas."""
    j, i, net = e.jac, view.sample, e.net
    m, K = j.dz2_dz1.shape[-1], j.dyhat_dz3.shape[-1]
    rows = [
        ((f"∂z2/∂z1 = M\n{m}×{m}, {_kind(net.f, view)}", formula(net.f, "z2", "z1", "M")),
         _jacobian(j.dz2_dz1[i], view)),
        ((f"∂ŷ/∂z3 = P\n{K}×{K}, {_kind(net.g, view)}", formula(net.g, "ŷ", "z3", "P")),
         _jacobian(j.dyhat_dz3[i], view)),
        ((f"∂ℓ/∂ŷ = V\n1×{K}", dloss_dyhat_formula(e)), j.dloss_dyhat[i]),
    ]
    return array_table(f"Local Jacobians (sample {i})", ("Jacobian", "formula", "value"), rows, view)


def backward_table(e: Explanation, view: View) -> Table:
    """∂ℓ/∂ŷ, ∂ℓ/∂z3, ∂ℓ/∂z2, ∂ℓ/∂z1 for one sample, each with its chain-rule step."""
    b, i = e.back, view.sample
    dz3_rule = "(ŷ − y) ÷ N  (fused, stable)" if e.net.loss.fused(e.net.g) else "∂ℓ/∂ŷ · ∂ŷ/∂z3 = V P"
    rows = [
        (("∂ℓ/∂ŷ", "V"), e.jac.dloss_dyhat[i]),
        (("∂ℓ/∂z3", dz3_rule), b.dloss_dz3[i]),
        (("∂ℓ/∂z2", "∂ℓ/∂z3 · W2"), b.dloss_dz2[i]),
        (("∂ℓ/∂z1", "∂ℓ/∂z2 · ∂z2/∂z1 = ∂ℓ/∂z2 · M"), b.dloss_dz1[i]),
    ]
    return array_table(f"Backward chain (sample {i})", ("derivative", "chain rule", "value"), rows, view)


def grads_table(e: Explanation, view: View) -> Table:
    """∂ℓ/∂W1, ∂ℓ/∂b1, ∂ℓ/∂W2, ∂ℓ/∂b2 of the batch loss, with their rules and shapes."""
    s = "Σ_b " if e.batch > 1 else ""
    rows = [((f"∂ℓ/∂{name}", s + CHAIN_RULE[name], shape_of(a)), a) for name, a in e.back.grads.items()]
    title = "Parameter gradients (of the batch loss ℓ)"
    return array_table(title, ("gradient", "chain rule", "shape", "value"), rows, view)


def notes(e: Explanation) -> list[str]:
    """Footnotes: the reduction's N, how BCE and the fused derivative are computed, the sample shown."""
    net, out = e.net, []
    if net.loss.reduction == "mean":
        out.append(f"N = {net.loss.divisor(*e.y.shape)}: reduction mean divides ℓ and every derivative by N.")
    if net.loss.name == "bce":
        out.append("V = (ŷ − y)/max(ŷ(1 − ŷ), 1e-12), as PyTorch's BCELoss backward: finite where ŷ rounds to 0 or 1.")
    if net.loss.fused(net.g):
        out.append(f"∂ℓ/∂z3 uses the fused (ŷ − y) ÷ N: equal to V·P, and finite where {net.g.label()} saturates.")
    if net.loss.name == "bce" and net.g.name == "sigmoid":
        out.append("ℓ is computed from the logits as (1 − y)·softplus(z3) + y·softplus(−z3), like BCEWithLogitsLoss "
                   "(no log clamping).")
    if e.batch > 1:
        out.append(f"Per-sample tables show one sample of {e.batch}; choose it with --sample 0..{e.batch - 1}.")
    return out


def step_table(step: Step, before: float, view: View) -> RenderableType:
    """One SGD step: each parameter's update −η d and its value after, then the loss after it."""
    extra = ", ".join(f"{k} {v:g}" for k, v in (("momentum", step.momentum), ("weight_decay", step.weight_decay))
                      if v) + (", nesterov" if step.nesterov and step.momentum else "")
    rows = [row for (name, u), (_, a) in zip(step.update.items(), step.params_after.items(), strict=True)
            for row in (((name, "−η d", "update"), u), ((name, "θ − η d", "after"), a))]
    title = f"SGD step θ ← θ − η d, η = {step.lr:g}" + (f" ({extra}; d as torch.optim.SGD's first step)"
                                                        if extra else " (d = ∂ℓ/∂θ)")
    table = array_table(title, ("param", "formula", "", "value"), rows, view)
    after = np.format_float_positional(step.loss_after, precision=max(view.precision, 1), trim="-")
    change = np.format_float_positional(step.loss_after - before, precision=max(view.precision, 1), trim="-")
    return Group(table, Text.from_markup(f"[bold]loss after the step[/bold]  ℓ = {after}   (change {change}, "
                                         "same batch)"))


def explanation(e: Explanation, view: View, source: str, description: str,
                step: Step | None = None) -> RenderableType:
    """Everything `twonet grads` prints, top to bottom (and one SGD step, if asked for)."""
    parts: list[RenderableType] = [
        header(e, source, description),
        params_table(e, view),
        forward_table(e, view),
        loss_line(e, view),
        jacobian_table(e, view),
        backward_table(e, view),
        grads_table(e, view),
        *([step_table(step, e.loss, view)] if step is not None else []),
    ]
    return Group(*parts, *(Text(f"note: {n}", style="dim") for n in notes(e)))
