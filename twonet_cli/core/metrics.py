"""The metric a run reports beside its loss: accuracy for classification, R² for regression."""

from __future__ import annotations

from typing import Literal

import numpy as np

from .activations import Array

Task = Literal["regression", "classification"]


def metric_name(task: Task) -> str:
    """'accuracy' or 'R²'."""
    return "accuracy" if task == "classification" else "R²"


def metric_key(task: Task) -> str:
    """The metric's name for machines: 'accuracy' or 'r2'."""
    return "accuracy" if task == "classification" else "r2"


def metric(task: Task, y_hat: Array, y: Array) -> float:
    """Accuracy (classification: argmax, or ŷ > 0.5 for one output) or R² (regression) of ŷ, y (B, K)."""
    if task == "classification":
        if y.shape[1] == 1:
            return float(np.mean((y_hat[:, 0] > 0.5) == (y[:, 0] > 0.5)))
        return float(np.mean(y_hat.argmax(axis=1) == y.argmax(axis=1)))
    ss_tot = float(((y - y.mean(axis=0)) ** 2).sum())
    return 1.0 - float(((y - y_hat) ** 2).sum()) / ss_tot if ss_tot > 0 else float("nan")
