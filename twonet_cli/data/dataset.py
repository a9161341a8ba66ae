"""A dataset and its split: rows (in memory or memory-mapped), which columns are x and y, the task,
the seeded validation split, and the standardisation fitted on the training rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.activations import Array
from ..core.losses import LossName
from ..core.metrics import Task
from ..errors import ConfigError, InputError
from ..io.config import DataConfig
from ..io.inputs import as_targets
from .files import FILE_SUFFIXES, Rows, load_file
from .generators import GENERATORS, generate


@dataclass
class Dataset:
    """Rows of (features..., target) with the columns that are x and the one that is y."""

    rows: Rows
    features: list[int]
    target: int
    task: Task
    classes: int  # distinct labels for classification (0..classes−1); 0 for regression
    mean: Array | None = None  # standardisation of the feature columns, from the training split
    std: Array | None = None

    def __len__(self) -> int:
        """The number of rows."""
        return len(self.rows)

    @property
    def in_features(self) -> int:
        """n, the number of feature columns."""
        return len(self.features)

    def take(self, idx: Array) -> tuple[Array, Array]:
        """x (b, n) standardised if fitted, and the raw target column (b,)."""
        block = self.rows.take(idx)
        x = np.ascontiguousarray(block[:, self.features])  # column indexing may hand back Fortran order
        if self.mean is not None and self.std is not None:
            x = (x - self.mean) / self.std
        return x, block[:, self.target]

    def targets(self, raw: Array, K: int, loss: LossName, where: str = "data.target") -> Array:
        """The raw target column (b,) as (b, K) for the loss: class labels one-hot when K > 1."""
        return as_targets(raw, K, len(raw), loss, where, labels=self.task == "classification" and K > 1)

    def chunks(self, idx: Array, chunk_bytes: int = 16 << 20) -> Iterator[tuple[Array, Array]]:
        """(x, y) for rows ``idx``, a few MB at a time."""
        size = max(1, chunk_bytes // (8 * self.rows.array.shape[1]))
        for start in range(0, len(idx), size):
            yield self.take(idx[start:start + size])

    def fit_standardiser(self, idx: Array) -> None:
        """Mean and standard deviation of the features over rows ``idx``, streamed in chunks.

        Each column is first divided by its largest |value|, so that data as large as 1e300 has
        a finite mean and deviation (x² would overflow)."""
        rows = np.sort(idx)
        scale = np.zeros(self.in_features)
        for x, _ in self.chunks(rows):
            scale = np.maximum(scale, np.abs(x).max(axis=0))
        scale = np.where(scale > 0, scale, 1.0)
        total, square, count = 0.0, 0.0, 0
        for x, _ in self.chunks(rows):
            u = x / scale
            total = total + u.sum(axis=0)
            square = square + (u * u).sum(axis=0)
            count += len(x)
        mean = np.asarray(total) / count
        var = np.maximum(np.asarray(square) / count - mean**2, 0.0)
        self.mean, self.std = mean * scale, np.where(var > 0, np.sqrt(var) * scale, 1.0)


def from_arrays(x: Array, y: Array, task: Task, classes: int) -> Dataset:
    """A dataset held in memory, from features x (N, n) and a target column y (N,)."""
    table = np.concatenate([np.asarray(x, np.float64), np.asarray(y, np.float64)[:, None]], axis=1)
    return Dataset(Rows(table), list(range(x.shape[1])), x.shape[1], task, classes)


def split(n: int, val_fraction: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Seeded (train, validation) row indices, each sorted (memory-mapped reads stay local)."""
    perm = rng.permutation(n)
    n_val = round(val_fraction * n)
    if val_fraction > 0 and n - n_val < 1:
        raise InputError(f"data.val_fraction: {val_fraction} leaves no training rows of {n}")
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


@dataclass
class Split:
    """A dataset, its training and validation rows, and the targets its loss takes (K outputs)."""

    data: Dataset
    train: Array  # row indices, sorted
    val: Array
    K: int
    loss: LossName

    def chunks(self, rows: Array) -> Iterator[tuple[Array, Array]]:
        """(x, y (b, K)) in float64 for ``rows``, a few MB at a time (for evaluation)."""
        for x, raw in self.data.chunks(rows):
            yield x, self.data.targets(raw, self.K, self.loss)


def from_config(dc: DataConfig, in_features: int, out_features: int, loss: LossName) -> Split:
    """The dataset a config's ``data`` section describes, split into training and validation rows."""
    K = out_features
    source = dc.source
    if Path(source).suffix.lower() in FILE_SUFFIXES:
        rows, cols, y_col = load_file(Path(source), dc.features, dc.target, dc.x_key, dc.y_key)
        task: Task = dc.task if dc.task != "auto" else ("regression" if loss == "mse" else "classification")
        classes = (K if K > 1 else 2) if task == "classification" else 0
        d = Dataset(rows, cols, y_col, task, classes)
    elif source in GENERATORS:
        _, task = GENERATORS[source]
        classes = (dc.classes if source in ("blobs", "spiral") else 2) if task == "classification" else 0
        x, y = generate(source, dc.n, dc.noise, np.random.default_rng(dc.seed), classes)
        task = dc.task if dc.task != "auto" else task
        d = from_arrays(x, y, task, classes)
    else:
        raise ConfigError(f"data.source: {source!r} is neither a generator ({', '.join(GENERATORS)}) "
                          f"nor a {'/'.join(FILE_SUFFIXES)} file")
    _check_fit(d, in_features, K, loss, source)
    train, val = split(len(d), dc.val_fraction, np.random.default_rng(dc.seed))
    if dc.standardize:
        d.fit_standardiser(train)
    return Split(d, train, val, K, loss)


def _check_fit(d: Dataset, n: int, K: int, loss: str, source: str) -> None:
    if d.in_features != n:
        raise ConfigError(f"data.source: {source} gives {d.in_features} feature(s), but model.in_features is {n}")
    if d.task == "regression" and loss != "mse":
        raise ConfigError(f"loss.name: a regression task needs mse, got {loss}")
    if d.task == "regression" and K != 1:
        raise ConfigError(f"model.out_features: {source} has one target column, so out_features must be 1 (got {K})")
    if d.task == "classification" and (K > 1 or loss == "cross_entropy") and d.classes != K:
        raise ConfigError(f"model.out_features: {source} has {d.classes} classes, so out_features must be "
                          f"{d.classes} (got {K})")
    if d.task == "classification" and K == 1 and d.classes != 2:
        raise ConfigError(f"model.out_features: {source} has {d.classes} classes; one output fits 2 classes only")
