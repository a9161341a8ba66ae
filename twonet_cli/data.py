"""Datasets: built-in generators (like TensorFlow Playground's), CSV/NPY/NPZ files, splits.

A ``Dataset`` keeps its rows where they are — in memory, or in a memory-mapped ``.npy`` that
may be far larger than memory — and hands out batches of rows on request, with the feature
columns standardised if asked. Pure numpy; errors are ``InputError`` naming file and key.
"""

from __future__ import annotations

import math
import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .activations import Array
from .arrays import read_csv
from .errors import ConfigError, InputError

Task = Literal["regression", "classification"]
# name: (features, task); classification generators give integer labels 0..classes−1
GENERATORS: dict[str, tuple[int, Task]] = {
    "sine": (1, "regression"),
    "surface": (2, "regression"),
    "xor": (2, "classification"),
    "circles": (2, "classification"),
    "moons": (2, "classification"),
    "blobs": (2, "classification"),
    "spiral": (2, "classification"),
}
FILE_SUFFIXES = (".csv", ".npy", ".npz")


def generate(name: str, n: int, noise: float, rng: np.random.Generator, classes: int = 2) -> tuple[Array, Array]:
    """x (n, d) and y: (n,) real targets for regression, integer labels for classification."""
    match name:
        case "sine":  # y = sin(x) on [−π, π]
            x = rng.uniform(-math.pi, math.pi, size=(n, 1))
            return x, np.sin(x[:, 0]) + noise * rng.normal(size=n)
        case "surface":  # y = sin(x₁)·cos(x₂) on [−2, 2]²
            x = rng.uniform(-2, 2, size=(n, 2))
            return x, np.sin(x[:, 0]) * np.cos(x[:, 1]) + noise * rng.normal(size=n)
        case "xor":  # the sign of x₁·x₂, away from the axes as in TensorFlow Playground
            x = rng.uniform(-1, 1, size=(n, 2))
            x += np.sign(x) * 0.1
            label = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
            return x + noise * rng.normal(size=x.shape), label
        case "circles":  # a disc of radius 0.5 inside a ring from 0.7 to 1
            label = rng.integers(0, 2, size=n)
            r = np.where(label == 1, rng.uniform(0, 0.5, n), rng.uniform(0.7, 1.0, n))
            t = rng.uniform(0, 2 * math.pi, n)
            x = np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
            return x + noise * rng.normal(size=x.shape), label
        case "moons":  # two interleaving half circles
            label = rng.integers(0, 2, size=n)
            t = rng.uniform(0, math.pi, n)
            x = np.where(label[:, None] == 0, np.stack([np.cos(t), np.sin(t)], 1),
                         np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1))
            return x + noise * rng.normal(size=x.shape), label
        case "blobs":  # `classes` gaussian clusters on a circle of radius 2
            label = rng.integers(0, classes, size=n)
            angle = 2 * math.pi * label / classes
            centres = 2 * np.stack([np.cos(angle), np.sin(angle)], 1)
            return centres + max(noise, 1e-12) * rng.normal(size=(n, 2)), label
        case "spiral":  # `classes` arms, as in CS231n's spiral data
            label = rng.integers(0, classes, size=n)
            r = rng.uniform(0.05, 1, n)
            t = 4 * r + 2 * math.pi * label / classes + noise * rng.normal(size=n)
            return np.stack([r * np.sin(t), r * np.cos(t)], 1), label
    raise InputError(f"data.source: unknown generator {name!r}")


class Rows:
    """A 2-D table of rows, in memory or memory-mapped, read by row indices.

    Rows of a memory-mapped file are read a few at a time, and the file's pages released from
    this process after each group (they stay in the kernel's page cache): the kernel maps a whole
    page-cache folio — up to 2 MB — around every row touched, so a batch of 128 scattered rows
    read at once could map 256 MB, and an epoch the whole file. Releasing costs ~1 µs a group.
    """

    ROWS_PER_RELEASE = 8  # at most ~16 MB of a mapped file resident at any moment

    def __init__(self, array: Array, mapping: mmap.mmap | None = None):
        self.array, self._mapping = array, mapping

    def __len__(self) -> int:
        return int(self.array.shape[0])

    @property
    def mapped(self) -> bool:
        """True when the rows are read from a memory-mapped file rather than held in memory."""
        return self._mapping is not None

    def take(self, idx: Array) -> Array:
        """Rows ``idx`` as an in-memory float array."""
        if self._mapping is None:
            return np.asarray(self.array[idx], dtype=np.float64)
        out = np.empty((len(idx), self.array.shape[1]), dtype=np.float64)
        for start in range(0, len(idx), self.ROWS_PER_RELEASE):
            stop = start + self.ROWS_PER_RELEASE
            out[start:stop] = self.array[idx[start:stop]]
            self._mapping.madvise(mmap.MADV_DONTNEED)
        return out


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
        return len(self.rows)

    @property
    def in_features(self) -> int:
        return len(self.features)

    def take(self, idx: Array) -> tuple[Array, Array]:
        """x (b, n) standardised if fitted, and the raw target column (b,)."""
        block = self.rows.take(idx)
        x = np.ascontiguousarray(block[:, self.features])  # column indexing may hand back Fortran order
        if self.mean is not None and self.std is not None:
            x = (x - self.mean) / self.std
        return x, block[:, self.target]

    def chunks(self, idx: Array, chunk_bytes: int = 16 << 20) -> Iterator[tuple[Array, Array]]:
        """(x, y) for rows ``idx``, a few MB at a time."""
        size = max(1, chunk_bytes // (8 * self.rows.array.shape[1]))
        for start in range(0, len(idx), size):
            yield self.take(idx[start:start + size])

    def fit_standardiser(self, idx: Array) -> None:
        """Mean and standard deviation of the features over rows ``idx``, streamed in chunks."""
        total, square, count = 0.0, 0.0, 0
        for x, _ in self.chunks(np.sort(idx)):
            total = total + x.sum(axis=0)
            square = square + (x * x).sum(axis=0)
            count += len(x)
        mean = np.asarray(total) / count
        var = np.maximum(np.asarray(square) / count - mean**2, 0.0)
        self.mean, self.std = mean, np.where(var > 0, np.sqrt(var), 1.0)


def from_arrays(x: Array, y: Array, task: Task, classes: int) -> Dataset:
    table = np.concatenate([np.asarray(x, np.float64), np.asarray(y, np.float64)[:, None]], axis=1)
    return Dataset(Rows(table), list(range(x.shape[1])), x.shape[1], task, classes)


def _column(spec: int | str, header: list[str] | None, width: int, where: str) -> int:
    if isinstance(spec, str):
        if header is None or spec not in header:
            raise InputError(f"{where}: no column named {spec!r}" + (f" (columns: {', '.join(header)})" if header else
                                                                      " (the file has no header row)"))
        return header.index(spec)
    if not -width <= spec < width:
        raise InputError(f"{where}: column {spec} is out of range for {width} columns")
    return spec % width


def load_file(path: Path, features: list[int | str] | None, target: int | str | None,
              x_key: str, y_key: str) -> tuple[Rows, list[int], int]:
    """A file's rows and which columns are x and y (default: the last column is the target)."""
    if not path.is_file():
        raise InputError(f"data.source: file '{path}' not found")
    header: list[str] | None = None
    match path.suffix.lower():
        case ".csv":
            header, table = read_csv(path)
            rows = Rows(table)
        case ".npy":
            rows = _memory_mapped(path)
        case _:
            rows = _read_npz(path, x_key, y_key)
    width = int(rows.array.shape[1])
    y_col = _column(-1 if target is None else target, header, width, "data.target")
    cols = [c for c in range(width) if c != y_col] if features is None else [
        _column(c, header, width, f"data.features[{i}]") for i, c in enumerate(features)]
    if y_col in cols:
        raise InputError(f"data.features: column {y_col} is also the target")
    return rows, cols, y_col


def _memory_mapped(path: Path) -> Rows:
    """A 2-D numeric .npy, mapped read-only: rows are read from disk as batches ask for them."""
    try:
        with path.open("rb") as fh:
            version = np.lib.format.read_magic(fh)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(fh)
            offset = fh.tell()
            mapping = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if len(shape) == 2 and shape[0] else None
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: not a readable .npy file ({e})") from None
    if len(shape) != 2 or fortran or dtype.kind not in "iuf" or mapping is None:
        raise InputError(f"{path}: expected a 2-D numeric array in C order (rows of features and target), "
                         f"got shape {shape} of {dtype}")
    # batches read scattered rows: no read-ahead, which would map neighbouring pages into memory too
    mapping.madvise(mmap.MADV_RANDOM)
    return Rows(np.ndarray(shape, dtype=dtype, buffer=mapping, offset=offset), mapping)


def _read_npz(path: Path, x_key: str, y_key: str) -> Rows:
    try:
        with np.load(path, allow_pickle=False) as z:
            if x_key not in z.files or y_key not in z.files:
                raise InputError(f"{path}: expected arrays '{x_key}' and '{y_key}' (data.x_key, data.y_key), "
                                 f"found {', '.join(z.files) or 'none'}")
            x, y = z[x_key], z[y_key]
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: not a readable .npz file ({e})") from None
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y) or x.dtype.kind not in "iuf" or y.dtype.kind not in "iuf":
        raise InputError(f"{path}: expected numeric x (N, n) and y (N,), got x {x.shape} {x.dtype}, "
                         f"y {y.shape} {y.dtype}")
    table = np.concatenate([x.astype(np.float64), y.astype(np.float64)[:, None]], axis=1)
    if not np.isfinite(table).all():
        raise InputError(f"{path}: contains NaN or infinity")
    return Rows(table)


def split(n: int, val_fraction: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Seeded (train, validation) row indices, each sorted (memory-mapped reads stay local)."""
    perm = rng.permutation(n)
    n_val = round(val_fraction * n)
    if val_fraction > 0 and n - n_val < 1:
        raise InputError(f"data.val_fraction: {val_fraction} leaves no training rows of {n}")
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def targets(raw: Array, K: int, loss: str, task: Task, where: str = "data.target") -> Array:
    """The target column as (b, K) for the loss: one-hot labels when K > 1 in classification."""
    if task == "classification" and (K > 1 or loss == "cross_entropy"):
        labels = raw.astype(np.int64)
        if np.any(labels != raw) or labels.min(initial=0) < 0 or labels.max(initial=0) >= K:
            raise InputError(f"{where}: class labels must be integers in 0..{K - 1}")
        return np.eye(K)[labels]
    if loss == "bce" and np.any((raw < 0) | (raw > 1)):
        raise InputError(f"{where}: bce targets must lie in [0, 1]")
    return raw[:, None]


def metric(task: Task, y_hat: Array, y: Array) -> float:
    """Accuracy (classification: argmax, or ŷ > 0.5 for one output) or R² (regression)."""
    if task == "classification":
        if y.shape[1] == 1:
            return float(np.mean((y_hat[:, 0] > 0.5) == (y[:, 0] > 0.5)))
        return float(np.mean(y_hat.argmax(axis=1) == y.argmax(axis=1)))
    ss_tot = float(((y - y.mean(axis=0)) ** 2).sum())
    return 1.0 - float(((y - y_hat) ** 2).sum()) / ss_tot if ss_tot > 0 else float("nan")



def from_config(dc: Any, in_features: int, out_features: int, loss: str) -> tuple[Dataset, Array, Array]:
    """The dataset a config's ``data`` section describes, and its (train, validation) rows."""
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
    return d, train, val


def _check_fit(d: Dataset, n: int, K: int, loss: str, source: str) -> None:
    if d.in_features != n:
        raise ConfigError(f"data.source: {source} gives {d.in_features} feature(s), but model.in_features is {n}")
    if d.task == "regression" and loss != "mse":
        raise ConfigError(f"loss.name: a regression task needs mse, got {loss}")
    if d.task == "classification" and (K > 1 or loss == "cross_entropy") and d.classes != K:
        raise ConfigError(f"model.out_features: {source} has {d.classes} classes, so out_features must be "
                          f"{d.classes} (got {K})")
    if d.task == "classification" and K == 1 and d.classes != 2:
        raise ConfigError(f"model.out_features: {source} has {d.classes} classes; one output fits 2 classes only")
