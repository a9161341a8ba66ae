"""Pictures of a run (matplotlib, the ``plot`` extra), each panel titled with what it shows:

- loss and metric per epoch (train solid, validation dashed), the gradient norm reaching each
  layer, and the share of saturated or dead units;
- regression: the fitted curve (one input), predicted against true, and the residuals;
- two inputs: a grid of the input plane and the data carried through Linear₁ and then f, before
  and after training (core/space.py), beside the decision regions (or ŷ over the plane);
- a sweep: its runs' curves overlaid.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot state) and returned; ``png`` renders one.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import space
from ..core.activations import Array
from ..core.metrics import Task, metric_name, predicted_class
from ..core.model import Net, Params, forward
from ..data.dataset import Dataset, Split
from ..errors import MissingExtraError
from ..formats.write import label_value
from ..train.loop import Epoch, best_epoch
from .train import fmt_kept, fmt_metric, fmt_moved

if TYPE_CHECKING:
    from ..config.schema import Config

MAX_POINTS = 1500  # data points drawn per set: evenly spaced rows beyond that
RESOLUTION = 200  # grid points per axis of decision regions
TRAIN, VAL = "train", "validation"
TRAIN_COLOUR, VAL_COLOUR = "k", "0.5"  # train black and solid, validation grey and dashed: not class colours
LINE_COLOURS = ("0.55", "#b07cc6")  # grid lines of constant x₂ (grey), of constant x₁ (violet): not class colours


def require_matplotlib() -> None:
    """Refuse early (before any training) when the plot extra is not installed."""
    _figure_class()


@dataclass(frozen=True)
class Points:
    """Some rows of one set, as the plots draw them: features as read (``x``) and as the network
    takes them (``inputs``), class indices (classification) or the raw targets (regression)."""

    name: str
    x: Array
    inputs: Array
    targets: Array


def run_title(name: str, cfg: Config, history: Sequence[Epoch], task: Task, overrides: Sequence[str] = ()) -> str:
    """The config (with its --set overrides) and the result, for the top of a run's figure."""
    if overrides:
        name = f"{name} + {' '.join(overrides)}"
    n, m, K = cfg.shape
    net = cfg.net()
    t = cfg.train
    head = (f"{name}: {n} → {m} → {K}, f = {net.f.label()}, g = {net.g.label()}, loss = {net.loss.name} "
            f"({net.loss.reduction}) · SGD lr {t.lr:g}{'' if t.schedule == 'constant' else f' ({t.schedule})'}, "
            f"momentum {t.momentum:g}, batch {t.batch_size}")
    if not history:
        return head
    last = history[-1]
    loss = f"val loss {last.val_loss:.4g}" if last.val_loss is not None else f"train loss {last.train_loss:.4g}"
    where = "validation" if last.val_loss is not None else "training"
    return f"{head}\nafter {last.epoch} epochs: {loss}, {where} {_metric_text(task, last.metric)}"


def run_figure(title: str, net: Net, split: Split, history: Sequence[Epoch], initial: Params, final: Params,
               hints: Sequence[str] = ()) -> Any:
    """A run's figure: curves; regression fit; for two inputs, the plane through the hidden layer."""
    data, task = split.data, split.data.task
    two_d = data.in_features == 2
    rows = 1 + (task == "regression" and not two_d) + 2 * two_d  # two inputs: ŷ over the plane shows the fit
    fig = _figure_class()(figsize=(17, 5.2 * rows + 0.4 * len(hints)), layout="constrained")
    axes = fig.subplots(rows, 3, squeeze=False)
    _loss_panel(axes[0][0], history, net)
    _metric_panel(axes[0][1], history, task)
    _gradient_panel(axes[0][2], history, net)
    sets = _points(split)
    row = 1
    if task == "regression" and not two_d:
        _regression_row(axes[row], net, final, data, sets)
        row += 1
    if two_d:
        _plane_rows(axes[row], axes[row + 1], net, initial, final, data, sets)
    fig.suptitle(title, fontsize=12)
    if hints:
        fig.supxlabel("\n".join(f"• {h}" for h in hints), fontsize=10, ha="left", x=0.01)
    return fig


def sweep_figure(title: str, runs: Sequence[tuple[str, Sequence[Epoch]]], task: Task) -> Any:
    """A sweep's runs overlaid, one colour each: loss and metric; the share of ∂ℓ/∂z2 that f lets
    through to z1; how far W1 moved from its start; the share of f′(z1) ≈ 0; and each run's end in
    words — the numbers of history.csv's last row, which the sweep table shows too."""
    fig = _figure_class()(figsize=(17, 9.5), layout="constrained")
    (loss_ax, metric_ax, summary_ax), (kept_ax, moved_ax, flat_ax) = fig.subplots(2, 3)
    has_val = any(e.val_loss is not None for _, h in runs for e in h)
    lines = []
    for i, (label, history) in enumerate(runs):
        colour = f"C{i % 10}"
        epochs = [e.epoch for e in history]
        loss_ax.plot(epochs, [e.train_loss for e in history], color=colour, label=label)
        if has_val:
            loss_ax.plot(epochs, [_num(e.val_loss) for e in history], color=colour, ls="--")
        metric_ax.plot(epochs, [_num(e.metric) for e in history], color=colour, label=label)
        kept_ax.plot(epochs, sampled(history, "kept"), color=colour, marker=".", label=label)
        moved_ax.plot(epochs, [_num(e.moved_1) for e in history], color=colour, label=label)
        flat_ax.plot(epochs, sampled(history, "flat"), color=colour, marker=".", label=label)
        if history:
            last = history[-1]
            lines.append((colour, f"{label}: {'validation' if has_val else 'train'} "
                                  f"{_metric_text(task, last.metric)}\n    f lets through {fmt_kept(last.kept)} "
                                  f"of ∂ℓ/∂z2; W1 moved {fmt_moved(last.moved_1)}, W2 {fmt_moved(last.moved_2)}"))
    loss_ax.set(title="Loss" + (" (solid: train, dashed: validation)" if has_val else " (train)"),
                xlabel="epoch", ylabel="loss")
    _log_if_positive(loss_ax)
    which = "validation" if has_val else "train, running"
    metric_ax.set(title=f"{metric_name(task)} ({which})", xlabel="epoch", ylabel=metric_name(task))
    _metric_limits(metric_ax, task)
    kept_ax.set(title="Gradient f lets through to z1: ‖∂ℓ/∂z1‖ / ‖∂ℓ/∂z2‖\n"
                "(on the probe rows; points: the epochs measured)", xlabel="epoch", ylabel="‖∂ℓ/∂z1‖ / ‖∂ℓ/∂z2‖")
    moved_ax.set(title="Does W1 learn? ‖W1 − W1 at the start‖ / ‖W1 at the start‖", xlabel="epoch",
                 ylabel="W1 moved, relative")
    for ax in (kept_ax, moved_ax):
        _log_if_positive(ax)
    flat_ax.set(title="Entries of f′(z1) ≈ 0 (below 1% of f's largest slope)", xlabel="epoch",
                ylabel="share of rows × units", ylim=(-0.02, 1.02))
    for ax in (loss_ax, metric_ax, kept_ax, moved_ax, flat_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if has_val:
        handles = loss_ax.get_legend_handles_labels()[0]
        loss_ax.legend(handles=[*handles, _line("-", TRAIN), _line("--", VAL)], fontsize=8)
    summary_ax.set_axis_off()
    summary_ax.set_title("At the last epoch")
    for k, (colour, text) in enumerate(lines[:8]):
        summary_ax.text(0.0, 0.95 - 0.11 * k, text, color=colour, fontsize=9.5, transform=summary_ax.transAxes,
                        va="top")
    fig.suptitle(title, fontsize=12)
    return fig


def render(fig: Any, fmt: str = "png") -> bytes:
    """The figure as the bytes of a PNG, SVG or PDF file (``fmt``); SVG and PDF without timestamps,
    so the same run draws the same file."""
    import matplotlib

    buf = io.BytesIO()
    metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(fmt)
    with matplotlib.rc_context({"svg.hashsalt": "twonet"}):  # SVG element ids from a fixed salt, not a random one
        fig.savefig(buf, format=fmt, dpi=100, metadata=metadata)
    return buf.getvalue()


# --- the curves -------------------------------------------------------------------------------


def _loss_panel(ax: Any, history: Sequence[Epoch], net: Net) -> None:
    epochs = [e.epoch for e in history]
    ax.plot(epochs, [e.train_loss for e in history], color=TRAIN_COLOUR, label=f"{TRAIN} (mean over the epoch's steps)")
    if any(e.val_loss is not None for e in history):
        ax.plot(epochs, [_num(e.val_loss) for e in history], color=VAL_COLOUR, ls="--", label=VAL)
    _log_if_positive(ax)
    best = best_epoch(history)
    if best is not None:
        ax.axvline(best.epoch, color="0.5", ls=":", label=f"best validation loss (epoch {best.epoch})")
    per = "sample" if net.loss.name == "cross_entropy" else "element"
    ax.set(title=f"Loss: {net.loss.name} per {per}\n(whatever the reduction: train and validation compare)",
           xlabel="epoch", ylabel=f"loss per {per}")
    ax.title.set_fontsize(10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def _metric_panel(ax: Any, history: Sequence[Epoch], task: Task) -> None:
    epochs = [e.epoch for e in history]
    has_val = any(e.val_loss is not None for e in history)
    train = [_num(e.train_metric) for e in history]
    if any(math.isfinite(v) for v in train):
        ax.plot(epochs, train, color=TRAIN_COLOUR, label=f"{TRAIN} (running, during the epoch's steps)")
    if has_val:
        ax.plot(epochs, [_num(e.metric) for e in history], color=VAL_COLOUR, ls="--", label=VAL)
    ax.set(title=metric_name(task), xlabel="epoch", ylabel=metric_name(task))
    _metric_limits(ax, task)
    ax.grid(alpha=0.3)
    if ax.get_lines():
        ax.legend(fontsize=8)


def _gradient_panel(ax: Any, history: Sequence[Epoch], net: Net) -> None:
    """What reaches the first layer: the share of ∂ℓ/∂z2 that f lets through (at the epochs measured),
    and how far W1 and W2 moved from their start (every epoch)."""
    epochs = [e.epoch for e in history]
    ax.plot(epochs, sampled(history, "kept"), color="C2", marker=".", label="‖∂ℓ/∂z1‖ / ‖∂ℓ/∂z2‖ (what f lets through)")
    ax.plot(epochs, [_num(e.moved_1) for e in history], color="C0", label="W1 moved from its start (relative)")
    ax.plot(epochs, [_num(e.moved_2) for e in history], color="C3", ls="--", label="W2 moved from its start")
    title = f"What reaches the first layer (f = {net.f.label()})"
    if history:
        last = history[-1]
        title += (f"\nepoch {last.epoch}: f lets through {fmt_kept(last.kept)} of ∂ℓ/∂z2\n"
                  f"W1 moved {fmt_moved(last.moved_1)} of its start, W2 {fmt_moved(last.moved_2)}")
    ax.set(title=title, xlabel="epoch", ylabel="ratio (log scale)")
    ax.title.set_fontsize(10)
    _log_if_positive(ax)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")


def sampled(history: Sequence[Epoch], key: str) -> list[float]:
    """A diagnostic per epoch, NaN where the epoch was not measured: a line breaks there (a gap),
    never drawing values between epochs that were not sampled."""
    return [_num(getattr(e, key)) for e in history]


# --- regression ---------------------------------------------------------------------------------


def _regression_row(axes: Sequence[Any], net: Net, p: Params, data: Dataset, sets: list[Points]) -> None:
    fit_ax, pred_ax, res_ax = axes
    one_input = data.in_features == 1
    if data.in_features == 1:
        _fitted_curve(fit_ax, net, p, data, sets)
    else:
        residuals = [(s, s.targets - forward(net, p, s.inputs).y_hat) for s in sets]
        fit_ax.hist([r.ravel() for _, r in residuals], bins=40, color=[TRAIN_COLOUR, VAL_COLOUR][:len(residuals)],
                    label=[s.name for s, _ in residuals], density=True)
        fit_ax.set(title="Residuals y − ŷ: their distribution", xlabel="y − ŷ", ylabel="density")
        fit_ax.grid(alpha=0.3)
        fit_ax.legend(fontsize=8)
    lo, hi = math.inf, -math.inf
    for pts, style in zip(sets, _styles(), strict=False):
        y_hat = forward(net, p, pts.inputs).y_hat
        y = pts.targets
        pred_ax.scatter(y.ravel(), y_hat.ravel(), s=9, alpha=0.6, label=pts.name, **style)
        along = np.repeat(pts.x[:, :1], y.shape[1], axis=1) if one_input else y_hat  # residuals against x, or ŷ
        res_ax.scatter(along.ravel(), (y - y_hat).ravel(), s=9, alpha=0.6, label=pts.name, **style)
        lo, hi = min(lo, float(y.min()), float(y_hat.min())), max(hi, float(y.max()), float(y_hat.max()))
    if math.isfinite(lo):
        pred_ax.plot([lo, hi], [lo, hi], color="k", lw=1, label="ŷ = y (perfect fit)")
    res_ax.axhline(0.0, color="k", lw=1)
    pred_ax.set(title="Predicted against true", xlabel="true y", ylabel="predicted ŷ")
    res_ax.set(title="Residuals y − ŷ (a good fit leaves no pattern)", xlabel="x" if one_input else "predicted ŷ",
               ylabel="y − ŷ")
    for ax in (pred_ax, res_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)


def _fitted_curve(ax: Any, net: Net, p: Params, data: Dataset, sets: list[Points]) -> None:
    xs = np.concatenate([s.x[:, 0] for s in sets])
    pad = 0.05 * (xs.max() - xs.min())
    grid = np.linspace(xs.min() - pad, xs.max() + pad, 400)[:, None]
    y_hat = forward(net, p, data.prep.standardise(grid)).y_hat
    for pts, style in zip(sets, _styles(), strict=False):
        for k in range(pts.targets.shape[1]):
            ax.scatter(pts.x[:, 0], pts.targets[:, k], s=9, alpha=0.5, label=pts.name if k == 0 else None, **style)
    for k in range(y_hat.shape[1]):
        ax.plot(grid[:, 0], y_hat[:, k], color="k", lw=2, label="the network's ŷ(x)" if k == 0 else None)
    names = data.prep.feature_names
    ax.set(title="Fitted curve", xlabel=names[0] if names else "x", ylabel="y")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


# --- the input plane through the hidden layer ------------------------------------------------------


def _plane_rows(before: Sequence[Any], after: Sequence[Any], net: Net, initial: Params, final: Params,
                data: Dataset, sets: list[Points]) -> None:
    """Before: the plane, z1, z2. After: decision regions (or ŷ over the plane), z1, z2."""
    train = sets[0]
    xs = np.concatenate([s.x for s in sets])
    lo, hi = xs.min(axis=0), xs.max(axis=0)
    pad = 0.1 * np.where(hi > lo, hi - lo, 1.0)
    lo, hi = lo - pad, hi + pad
    lines = space.grid_lines(lo, hi)
    names = data.prep.feature_names or ["x1", "x2"]
    colour_of = _colouring(data, train.targets)

    ax = before[0]
    _draw_lines(ax, lines)
    ax.scatter(train.x[:, 0], train.x[:, 1], s=8, **colour_of(train.targets))
    ax.set(title="The input plane x: a grid and the training data", xlabel=names[0], ylabel=names[1])
    if data.task == "classification":
        ax.legend(handles=_class_handles([f"C{c % 10}" for c in range(len(_class_names(data)))], _class_names(data)),
                  fontsize=8, loc="upper right", framealpha=0.8)
    _region_panel(after[0], net, final, data, sets, lo, hi, names)

    inputs = [data.prep.standardise(line) for line in lines]
    net_width = int(final.b1.shape[0])
    f = net.f.label()
    for row, p, when in ((before, initial, "before training"), (after, final, "after training")):
        z1, z2 = space.layer_views(net, p, inputs, train.inputs, data.task == "classification")
        _draw_view(row[1], z1, colour_of(train.targets),
                   f"z1 = W1 x + b1 (Linear₁), {when}\nonly stretched, rotated, sheared, shifted: lines stay straight")
        if data.task == "classification":
            what = "dashed: Linear₂'s boundary" if z2.boundary is not None else "Linear₂ cuts it straight"
        else:
            what = "Linear₂ reads ŷ off it linearly"
        shadow = f"\n(a 2-D view of an {net_width}-D sheet: crossings come from the view)" if net_width > 2 else ""
        _draw_view(row[2], z2, colour_of(train.targets), f"z2 = {f}(z1), {when}, as Linear₂ reads it\n"
                   f"f bends the grid; {what}{shadow}", equal=False)  # each axis at its own scale: no smear


def _region_panel(ax: Any, net: Net, p: Params, data: Dataset, sets: list[Points], lo: Array, hi: Array,
                  names: list[str]) -> None:
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], RESOLUTION), np.linspace(lo[1], hi[1], RESOLUTION))
    y_hat = space.output_grid(net, p, gx, gy, data.prep.standardise)
    if data.task == "classification":
        labels = _class_names(data)
        predicted = predicted_class(y_hat)
        colours = [f"C{c % 10}" for c in range(len(labels))]
        ax.contourf(gx, gy, predicted, levels=np.arange(len(labels) + 1) - 0.5, colors=colours, alpha=0.25)
        ax.contour(gx, gy, predicted, levels=np.arange(len(labels) - 1) + 0.5, colors="k", linewidths=0.8)
        for pts, marker in zip(sets, ("o", "^"), strict=False):
            ax.scatter(pts.x[:, 0], pts.x[:, 1], c=[colours[int(c)] for c in pts.targets], marker=marker, s=14,
                       edgecolors="k", linewidths=0.3)
        handles = _class_handles(colours, labels)
        handles += [_marker(m, name) for m, name in zip(("o", "^"), (s.name for s in sets), strict=False)]
        ax.legend(handles=handles, fontsize=8, loc="upper right", framealpha=0.8)
        ax.set(title="Decision regions after training:\nthe predicted class, with the data")
    else:
        surface = ax.contourf(gx, gy, y_hat[..., 0], levels=20, cmap="viridis")
        ax.figure.colorbar(surface, ax=ax, label="ŷ")
        for pts, marker in zip(sets, ("o", "^"), strict=False):  # where the data lie; the fit: the R² panel
            ax.scatter(pts.x[:, 0], pts.x[:, 1], color="k", marker=marker, s=7, edgecolors="w", linewidths=0.4,
                       label=pts.name)
        ax.legend(fontsize=8, loc="upper right")
        ax.set(title="ŷ over the input plane after training (colour),\nwith the data's inputs (points)")
    ax.set(xlabel=names[0], ylabel=names[1], xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))


def _draw_lines(ax: Any, lines: Sequence[Array]) -> None:
    half = len(lines) // 2
    for i, line in enumerate(lines):
        ax.plot(line[:, 0], line[:, 1], color=LINE_COLOURS[i >= half], lw=0.7, alpha=0.7)


def _draw_view(ax: Any, view: space.View2D, colours: dict[str, Any], title: str, equal: bool = True) -> None:
    _draw_lines(ax, view.lines)
    ax.scatter(view.points[:, 0], view.points[:, 1], s=8, **colours)
    x_name, y_name = view.axes
    if view.explained is not None:
        x_name = f"{x_name} ({_share(view.explained[0])} of variance)"
        y_name = f"{y_name} ({_share(view.explained[1])})"
    if view.boundary is not None:
        ax.axvline(view.boundary, color="k", ls="--", lw=1.2)
    if equal:  # z1: distances as they are, no axis magnified (the affine map's story)
        ax.set_aspect("equal", adjustable="datalim")
    ax.set(title=title, xlabel=x_name, ylabel=y_name)
    ax.title.set_fontsize(10)


# --- helpers -----------------------------------------------------------------------------------------


def _points(split: Split) -> list[Points]:
    """The training rows, then the validation rows (if any), at most MAX_POINTS of each."""
    out = []
    for name, data, idx in ((TRAIN, split.data, split.train), (VAL, split.val_data_set, split.val)):
        if not len(idx):
            continue
        idx = idx[np.linspace(0, len(idx) - 1, min(len(idx), MAX_POINTS)).astype(np.int64)]
        x, raw = data.take(idx, raw=True)
        if data.task == "classification":
            targets = (data.prep.target_classes(data.decoded(raw), data.name) if data.prep.labels is not None
                       else predicted_class(raw))
        else:
            targets = raw
        out.append(Points(name, x, data.prep.standardise(x), targets))
    return out


def _class_names(data: Dataset) -> list[str]:
    labels = data.prep.labels
    return [str(label_value(v)) for v in labels] if labels is not None else ["0", "1"]


def _colouring(data: Dataset, targets: Array) -> Callable[[Array], dict[str, Any]]:
    """Scatter colours for data points: by class, or by target value (regression)."""
    if data.task == "classification":
        return lambda t: {"c": [f"C{int(c) % 10}" for c in t]}
    lo, hi = float(targets[:, 0].min()), float(targets[:, 0].max())
    return lambda t: {"c": t[:, 0], "cmap": "viridis", "vmin": lo, "vmax": hi}


MAX_LEGEND = 10  # classes named in a legend; the rest counted


def _class_handles(colours: Sequence[str], labels: Sequence[str]) -> list[Any]:
    """Legend entries for the classes, the first MAX_LEGEND of them and a count of the rest."""
    handles = [_patch(colours[c], f"class {label}") for c, label in enumerate(labels[:MAX_LEGEND])]
    if len(labels) > MAX_LEGEND:
        handles.append(_patch("w", f"… and {len(labels) - MAX_LEGEND} more classes"))
    return handles


def _styles() -> list[dict[str, Any]]:
    return [{"color": TRAIN_COLOUR, "marker": "o"}, {"color": VAL_COLOUR, "marker": "^"}]


def _patch(colour: str, label: str) -> Any:
    from matplotlib.patches import Patch

    return Patch(facecolor=colour, alpha=0.5, edgecolor="k", label=label)


def _marker(marker: str, label: str) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([], [], marker=marker, ls="", color="0.6", markeredgecolor="k", label=label)


def _line(style: str, label: str) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([], [], color="k", ls=style, label=label)


def _metric_text(task: Task, value: float | None) -> str:
    return f"{metric_name(task)} {fmt_metric(task, value)}"


def _metric_limits(ax: Any, task: Task) -> None:
    """Accuracy on [0, 1]; R² from just below its lowest value after the first tenth of the run (the
    first epochs' R² can be hugely negative) but not below −1, up to 1."""
    if task == "classification":
        ax.set_ylim(0.0, 1.02)
        return
    tails = [np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines()]
    tails = [t[len(t) // 10:] for t in tails]
    finite = np.concatenate([t[np.isfinite(t)] for t in tails]) if tails else np.empty(0)
    low = float(finite.min()) if finite.size else 0.0
    ax.set_ylim(max(low - 0.1 * (1.0 - low), -1.0), 1.0 + 0.02 * (1.0 - low) + 1e-3)


def _log_if_positive(ax: Any) -> None:
    values = [v for line in ax.get_lines() for v in np.asarray(line.get_ydata(), dtype=float)]
    finite = [v for v in values if math.isfinite(v)]
    if finite and min(finite) > 0:
        ax.set_yscale("log")


def _share(v: float) -> str:
    """A share of variance: whole percents, but a small one with its first digit (0.3%, not 0%)."""
    return f"{v:.0%}" if v >= 0.095 else f"{v:.1%}" if v >= 0.00095 else f"{v:.0e}"


def _num(v: float | None) -> float:
    return math.nan if v is None else v


def _figure_class() -> Any:
    """matplotlib's Figure, or a one-line error naming the extra to install."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingExtraError("--plot: needs matplotlib; install it with: pip install 'twonet[plot]'") from None
    return Figure
