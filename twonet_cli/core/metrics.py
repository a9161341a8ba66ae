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


def predicted_class(y_hat: Array) -> Array:
    """Class indices from ŷ (..., K): argmax, or ŷ > 0.5 for one output."""
    return y_hat.argmax(axis=-1) if y_hat.shape[-1] > 1 else (y_hat[..., 0] > 0.5).astype(np.int64)


def metric(task: Task, y_hat: Array, y: Array) -> float:
    """Accuracy (classification: argmax, or ŷ > 0.5 for one output) or R² (regression) of ŷ, y (B, K)."""
    if task == "classification":
        if y.shape[1] == 1:
            return float(np.mean((y_hat[:, 0] > 0.5) == (y[:, 0] > 0.5)))
        return float(np.mean(y_hat.argmax(axis=1) == y.argmax(axis=1)))
    ss_tot = float(((y - y.mean(axis=0)) ** 2).sum())
    return 1.0 - float(((y - y_hat) ** 2).sum()) / ss_tot if ss_tot > 0 else float("nan")


class MetricSums:
    """``metric`` accumulated batch by batch: correct rows (accuracy), or R²'s sums (scores.py's
    RegressionScores), pooled over the outputs at the end."""

    def __init__(self, task: Task, K: int):
        from .scores import RegressionScores

        self.task, self.rows, self.correct = task, 0, 0
        self.sums = RegressionScores(K)

    def add(self, y_hat: Array, y: Array) -> None:
        """One batch's predictions and targets (b, K)."""
        b = len(y)
        if self.task == "classification":
            if y.shape[1] == 1:
                self.correct += int(np.count_nonzero((y_hat[:, 0] > 0.5) == (y[:, 0] > 0.5)))
            else:
                self.correct += int(np.count_nonzero(y_hat.argmax(axis=1) == y.argmax(axis=1)))
        else:
            self.sums.add(y_hat, y)
        self.rows += b

    @property
    def sst(self) -> float:
        """Σ (y − ȳ)² over the rows added, pooled over outputs (R²'s denominator)."""
        return float(self.sums.m2.sum())

    def value(self) -> float:
        """Accuracy, or R² = 1 − Σ SSE / Σ SST pooled over outputs (NaN for constant targets)."""
        if self.task == "classification":
            return self.correct / self.rows if self.rows else float("nan")
        ss_tot = self.sst
        return 1.0 - float(self.sums.sse.sum()) / ss_tot if ss_tot > 0 else float("nan")
