"""The metric a run reports beside its loss — accuracy for classification, R² for regression — and
the fuller scores of `evaluate`, each defined once, with scikit-learn's definitions; all of them
accumulate a chunk of rows at a time (so a file of any length is scored in bounded memory):

- classification: the confusion matrix, accuracy, per-class precision, recall, F1 and support,
  their macro and support-weighted averages (over the classes present in the targets or the
  predictions, as ``classification_report``), and the log-loss;
- regression, per output and averaged uniformly over outputs: R² (1 − SSE/SST; 1 for a constant
  target predicted exactly, else 0), MAE, MSE and RMSE (√MSE per output, then averaged).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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
    """Class indices from ŷ (..., K): argmax, or ŷ > 0.5 for one output. Targets y (one-hot rows,
    or 0/1) give their class by the same rule."""
    return y_hat.argmax(axis=-1) if y_hat.shape[-1] > 1 else (y_hat[..., 0] > 0.5).astype(np.int64)


def correct(y_hat: Array, y: Array) -> int:
    """Rows (b, K) whose predicted class is the target's: accuracy's numerator."""
    return int(np.count_nonzero(predicted_class(y_hat) == predicted_class(y)))


def r2(sse: Any, sst: Any) -> Any:
    """R² = 1 − SSE/SST (scalars, or one per output); where the targets are constant (SST = 0),
    1 if they are predicted exactly, else 0 — scikit-learn's ``r2_score``."""
    sse, sst = np.asarray(sse, dtype=np.float64), np.asarray(sst, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sst > 0, 1.0 - sse / np.where(sst > 0, sst, 1.0), np.where(sse == 0, 1.0, 0.0))[()]


def metric(task: Task, y_hat: Array, y: Array) -> float:
    """Accuracy (classification) or R² pooled over outputs (regression) of ŷ, y (B, K)."""
    sums = MetricSums(task, y.shape[1])
    sums.add(y_hat, y)
    return sums.value()


class MetricSums:
    """``metric`` accumulated batch by batch: correct rows (accuracy), or R²'s sums (scores.py's
    RegressionScores), pooled over the outputs at the end."""

    def __init__(self, task: Task, K: int):
        self.task, self.rows, self.correct = task, 0, 0
        self.sums = RegressionScores(K)

    def add(self, y_hat: Array, y: Array) -> None:
        """One batch's predictions and targets (b, K)."""
        b = len(y)
        if self.task == "classification":
            self.correct += correct(y_hat, y)
        else:
            self.sums.add(y_hat, y)
        self.rows += b

    @property
    def sst(self) -> float:
        """Σ (y − ȳ)² over the rows added, pooled over outputs (R²'s denominator)."""
        return float(self.sums.m2.sum())

    def value(self) -> float:
        """Accuracy, or R² = 1 − Σ SSE / Σ SST pooled over outputs."""
        if self.task == "classification":
            return self.correct / self.rows if self.rows else float("nan")
        return float(r2(self.sums.sse.sum(), self.sst))


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
        mse = self.sse / n
        per = {"r2": np.atleast_1d(r2(self.sse, self.m2)), "mae": self.sae / n, "mse": mse, "rmse": np.sqrt(mse)}
        return {"per_output": per, **{k: float(v.mean()) for k, v in per.items()}}
