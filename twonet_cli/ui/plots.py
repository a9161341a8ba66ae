"""Pictures of a run (matplotlib, the ``plot`` extra): loss curves, and for 2-D classification the
decision regions with the data. Returns PNG bytes; the caller writes the file."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.model import Net, Params, forward
from ..data.dataset import Split
from ..errors import MissingExtraError
from ..train.loop import Epoch

Regions = tuple[Any, Any, Any, Any, Any]  # grid x, grid y, predicted class on the grid, data x (N, 2), labels


def require_matplotlib() -> None:
    """Refuse early (before any training) when the plot extra is not installed."""
    _pyplot()


def decision_regions(net: Net, params: Params, split: Split, resolution: int = 200) -> Regions | None:
    """For 2-D classification: the predicted class on a grid around the training data, and the data."""
    data = split.data
    if data.task != "classification" or data.in_features != 2:
        return None
    x, raw = data.take(split.train)
    labels = data.prep.class_indices(raw[:, 0], data.name) if data.prep.labels is not None else raw[:, 0]
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = 0.1 * (hi - lo)
    gx, gy = np.meshgrid(*(np.linspace(a - d, b + d, resolution) for a, b, d in zip(lo, hi, pad, strict=True)))
    y_hat = forward(net, params, np.stack([gx.ravel(), gy.ravel()], axis=1)).y_hat
    predicted = y_hat.argmax(axis=1) if y_hat.shape[1] > 1 else (y_hat[:, 0] > 0.5).astype(int)
    return gx, gy, predicted.reshape(gx.shape), x, labels


def training_plot(history: Sequence[Epoch], regions: Regions | None) -> bytes:
    """Loss curves, and the decision regions if given, as a PNG."""
    plt = _pyplot()
    panels = 2 if regions is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.2), squeeze=False)
    ax = axes[0][0]
    epochs = [e.epoch for e in history]
    ax.plot(epochs, [e.train_loss for e in history], label="train")
    if any(e.val_loss is not None for e in history):
        ax.plot(epochs, [e.val_loss for e in history], label="validation")
    ax.set(xlabel="epoch", ylabel="loss", yscale="log", title="Loss")
    ax.legend()
    if regions is not None:
        gx, gy, predicted, x, labels = regions
        ax = axes[0][1]
        ax.contourf(gx, gy, predicted, alpha=0.3, cmap="viridis")
        ax.scatter(x[:, 0], x[:, 1], c=labels, s=10, cmap="viridis", edgecolors="k", linewidths=0.2)
        ax.set(title="Decision regions", xlabel="x1", ylabel="x2")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    return buf.getvalue()


def _pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend, or a one-line error naming the extra to install."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError("--plot: needs matplotlib; install it with: pip install 'twonet[plot]'") from None
    return plt
