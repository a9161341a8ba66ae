"""Scores of predictions against targets, accumulated a chunk of rows at a time (so a test file
of any length is scored in bounded memory), with scikit-learn's definitions:

- classification: the confusion matrix, accuracy, per-class precision, recall, F1 and support,
  their macro and support-weighted averages (over the classes present in the targets or the
  predictions, as ``classification_report``), and the log-loss;
- regression, per output and averaged uniformly over outputs: R² (1 − SSE/SST; 1 for a constant
  target predicted exactly, else 0), MAE, MSE and RMSE (√MSE per output, then averaged).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .activations import Array


@dataclass
class ClassScores:
    """Counts for C classes: confusion[i, j] = rows of true class i predicted as class j."""

    classes: int
    confusion: Array = field(init=False)
    log_loss_sum: float = 0.0

    def __post_init__(self) -> None:
        self.confusion = np.zeros((self.classes, self.classes), dtype=np.int64)

    def add(self, true: Array, predicted: Array, log_loss_sum: float = 0.0) -> None:
        """Class indices (b,) of targets and predictions; the chunk's summed log-loss."""
        np.add.at(self.confusion, (true.astype(np.int64), predicted.astype(np.int64)), 1)
        self.log_loss_sum += log_loss_sum

    @property
    def rows(self) -> int:
        """Rows scored."""
        return int(self.confusion.sum())

    def present(self) -> Array:
        """Indices of the classes in the targets or the predictions (the report's rows)."""
        return np.flatnonzero(self.confusion.sum(axis=0) + self.confusion.sum(axis=1))

    def report(self) -> dict[str, Any]:
        """Accuracy, per-class precision/recall/F1/support, macro and weighted averages, and the
        confusion matrix, restricted to the classes present."""
        keep = self.present()
        cm = self.confusion[np.ix_(keep, keep)]
        tp = np.diag(cm).astype(np.float64)
        support = cm.sum(axis=1).astype(np.float64)
        predicted = cm.sum(axis=0).astype(np.float64)
        precision = _divide(tp, predicted)
        recall = _divide(tp, support)
        f1 = _divide(2 * tp, support + predicted)  # scikit-learn's form: 2·tp / (2·tp + fp + fn)
        weights = support / support.sum()
        return {
            "classes": keep,
            "accuracy": float(tp.sum() / cm.sum()),
            "precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64),
            "macro": {k: float(v.mean()) for k, v in (("precision", precision), ("recall", recall), ("f1", f1))},
            "weighted": {k: float((v * weights).sum()) for k, v in (("precision", precision), ("recall", recall),
                                                                    ("f1", f1))},
            "confusion": cm,
        }


def _divide(a: Array, b: Array) -> Array:
    """a / b, and 0 where b is 0 (scikit-learn's zero_division default)."""
    return np.divide(a, b, out=np.zeros_like(a), where=b > 0)


@dataclass
class RegressionScores:
    """Per-output running sums: count, mean and squared deviation of y (Chan's merge), SSE, SAE."""

    outputs: int
    count: int = 0
    mean: Array = field(init=False)
    m2: Array = field(init=False)
    sse: Array = field(init=False)
    sae: Array = field(init=False)

    def __post_init__(self) -> None:
        self.mean, self.m2, self.sse, self.sae = (np.zeros(self.outputs) for _ in range(4))

    def add(self, y_hat: Array, y: Array) -> None:
        """Predictions and targets (b, K) of one chunk."""
        b = len(y)
        if not b:
            return
        r = y - y_hat
        self.sse += (r * r).sum(axis=0)
        self.sae += np.abs(r).sum(axis=0)
        mean_b = y.mean(axis=0)
        d = y - mean_b
        m2_b = (d * d).sum(axis=0)
        n = self.count + b
        delta = mean_b - self.mean
        self.m2 += m2_b + delta * delta * (self.count * b / n)
        self.mean += delta * (b / n)
        self.count = n

    def report(self) -> dict[str, Any]:
        """R², MAE, MSE, RMSE per output, and each averaged uniformly over the outputs."""
        n = self.count
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(self.m2 > 0, 1.0 - self.sse / np.where(self.m2 > 0, self.m2, 1.0),
                          np.where(self.sse == 0, 1.0, 0.0))
        mse = self.sse / n
        per = {"r2": r2, "mae": self.sae / n, "mse": mse, "rmse": np.sqrt(mse)}
        return {"per_output": per, **{k: float(v.mean()) for k, v in per.items()}}
