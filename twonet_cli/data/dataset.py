"""A dataset and its split: rows (in memory or memory-mapped), which columns are x and y, the task
and class labels, the validation rows (a seeded share, or a file of their own), and the
standardisation fitted on the training rows — together the ``Preprocessing`` a run saves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..config.schema import DATA_SUFFIXES as FILE_SUFFIXES
from ..config.schema import DataConfig
from ..core.activations import Array
from ..core.losses import LossName
from ..core.metrics import Task
from ..errors import ConfigError, InputError
from .files import Rows, load_file
from .generators import GENERATORS, generate
from .preprocessing import Preprocessing, class_labels
from .targets import as_targets, class_targets

CHUNK_BYTES = 16 << 20  # rows read at a time when a whole file is scanned (labels, standardisation)
EVAL_CHUNK_BYTES = 1 << 20  # rows evaluated at a time: each chunk's forward pass stays in cache


@dataclass
class Dataset:
    """Rows of a table, the columns that are x and y, and the training data's preprocessing
    (whose standardisation and class labels apply to these rows too)."""

    rows: Rows
    features: list[int]
    target: list[int]
    prep: Preprocessing
    name: str = "data.source"  # the config key the rows came from, for messages

    def __len__(self) -> int:
        """The number of rows."""
        return len(self.rows)

    @property
    def in_features(self) -> int:
        """n, the number of feature columns."""
        return len(self.features)

    @property
    def task(self) -> Task:
        """regression or classification."""
        return self.prep.task

    @property
    def classes(self) -> int:
        """Distinct class labels for classification; 0 for regression (or soft BCE targets)."""
        return 0 if self.prep.labels is None else len(self.prep.labels)

    def take(self, idx: Array, raw: bool = False) -> tuple[Array, Array]:
        """x (b, n) standardised if fitted (as read, with ``raw``), and the raw target columns (b, t)."""
        block = self.rows.take(idx)
        x = np.ascontiguousarray(block[:, self.features])  # column indexing may hand back Fortran order
        return x if raw else self.prep.standardise(x), block[:, self.target]

    def targets(self, raw: Array, K: int, loss: LossName) -> Array:
        """The raw target columns (b, t) as (b, K) for the loss: class values become indices, one-hot
        when K > 1 (or for cross-entropy)."""
        if self.prep.labels is not None:
            return class_targets(self.prep.target_classes(self.decoded(raw), self.name), K, loss)
        return as_targets(raw, K, len(raw), loss, self.name)

    def decoded(self, raw: Array) -> Array:
        """Raw target columns (b, t) as the file wrote them: a column of text as its text."""
        if not any(c in self.rows.text for c in self.target):
            return raw
        return np.stack([self.rows.decode(c, raw[:, i]) for i, c in enumerate(self.target)], axis=1)

    def chunks(self, idx: Array, chunk_bytes: int = CHUNK_BYTES) -> Iterator[tuple[Array, Array]]:
        """(x, raw targets) for rows ``idx``, a few MB at a time."""
        size = max(1, chunk_bytes // (8 * self.rows.array.shape[1]))
        for start in range(0, len(idx), size):
            yield self.take(idx[start:start + size])

    def fit_standardiser(self, idx: Array) -> None:
        """Mean and standard deviation of the features over rows ``idx``, streamed in chunks.

        Each column is first divided by its largest |value|, so that data as large as 1e300 has
        a finite mean and deviation (x² would overflow)."""
        self.prep = replace(self.prep, mean=None, std=None)
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
        self.prep = replace(self.prep, mean=mean * scale, std=np.where(var > 0, np.sqrt(var) * scale, 1.0))


def from_arrays(x: Array, y: Array, task: Task, classes: int) -> Dataset:
    """A dataset held in memory, from features x (N, n) and targets y (N,) or (N, t); classification
    labels are 0..classes−1."""
    y = np.asarray(y, np.float64)
    y = y[:, None] if y.ndim == 1 else y
    table = np.concatenate([np.asarray(x, np.float64), y], axis=1)
    n, t = x.shape[1], y.shape[1]
    prep = Preprocessing(task, n + t, tuple(range(n)), tuple(range(n, n + t)),
                         labels=np.arange(float(classes)) if task == "classification" and classes else None)
    return Dataset(Rows(table), list(prep.features), list(prep.target), prep)


def split(n: int, val_fraction: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Seeded (train, validation) row indices, each sorted (memory-mapped reads stay local)."""
    perm = rng.permutation(n)
    n_val = round(val_fraction * n)
    if val_fraction > 0 and n - n_val < 1:
        raise InputError(f"data.val_fraction: {val_fraction} leaves no training rows of {n}")
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


@dataclass
class Split:
    """A dataset, its training and validation rows, and the targets its loss takes (K outputs).
    The validation rows are ``val`` of ``val_data`` (the dataset itself unless a file of their own)."""

    data: Dataset
    train: Array  # row indices, sorted
    val: Array
    K: int
    loss: LossName
    val_data: Dataset | None = None
    test: Dataset | None = None  # data.test, scored once after training
    _val: Dataset = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._val = self.val_data if self.val_data is not None else self.data

    @property
    def prep(self) -> Preprocessing:
        """The preprocessing a run saves (fitted on the training rows)."""
        return self.data.prep

    @property
    def val_data_set(self) -> Dataset:
        """The dataset the validation rows ``val`` index (the training data, or a file of their own)."""
        return self._val

    def chunks(self, rows: Array, data: Dataset | None = None,
               chunk_bytes: int = EVAL_CHUNK_BYTES) -> Iterator[tuple[Array, Array]]:
        """(x, y (b, K)) in float64 for ``rows`` of ``data`` (default: the training data), ``chunk_bytes``
        of x at a time."""
        d = data if data is not None else self.data
        for x, raw in d.chunks(rows, chunk_bytes):
            yield x, d.targets(raw, self.K, self.loss)

    def validation(self) -> Iterator[tuple[Array, Array]]:
        """(x, y) of the validation rows, in chunks."""
        return self.chunks(self.val, self._val)

    def training(self) -> Iterator[tuple[Array, Array]]:
        """(x, y) of the training rows, in chunks."""
        return self.chunks(self.train)

    def testing(self) -> Iterator[tuple[Array, Array]]:
        """(x, y) of data.test's rows, in chunks (none without a test file)."""
        if self.test is None:
            return iter(())
        return self.chunks(np.arange(len(self.test)), self.test)


def _is_file(source: str) -> bool:
    return Path(source).suffix.lower() in FILE_SUFFIXES


def _task(dc: DataConfig, loss: LossName) -> Task:
    if dc.task != "auto":
        return dc.task
    if _is_file(dc.source):
        return "regression" if loss == "mse" else "classification"
    return GENERATORS[dc.source][1] if dc.source in GENERATORS else "regression"


def _open_file(source: str, dc: DataConfig, where: str) -> tuple[Rows, list[int], list[int], list[str] | None]:
    return load_file(Path(source), dc.features, dc.target, dc.x_key, dc.y_key, where)


def _labels(task: Task, loss: LossName, rows: Rows, target: list[int], where: str) -> Array | None:
    """The class values of a classification file's target column (None for regression, several
    target columns, or BCE's soft targets in [0, 1]), scanned a chunk at a time."""
    if any(c in rows.text for c in target):
        if task != "classification" or len(target) != 1:
            raise InputError(f"{where}: the target holds text ('{rows.text[target[0]][0]}'): class labels need "
                             "one target column and a classification loss (bce or cross_entropy, or data.task: "
                             "classification)")
        return class_labels(rows.text[target[0]], where)
    if task != "classification" or len(target) != 1:
        return None
    labels = np.empty(0)
    for block in rows.blocks(CHUNK_BYTES):
        column = block[:, target[0]]
        if loss == "bce" and not np.all(column == np.round(column)):
            return None
        labels = class_labels(np.concatenate([labels, column]), where)
    return labels


def open_source(dc: DataConfig, loss: LossName) -> Dataset:
    """The dataset ``data.source`` names (a file, or a generator drawn with data.seed), unsplit."""
    task = _task(dc, loss)
    if _is_file(dc.source):
        rows, cols, y_cols, header = _open_file(dc.source, dc, "data.source")
        prep = Preprocessing(task, int(rows.array.shape[1]), tuple(cols), tuple(y_cols),
                             None if header is None else tuple(header), _labels(task, loss, rows, y_cols,
                                                                                 "data.source"))
        return Dataset(rows, cols, y_cols, prep)
    if dc.source in GENERATORS:
        _, kind = GENERATORS[dc.source]
        classes = (dc.classes if dc.source in ("blobs", "spiral") else 2) if kind == "classification" else 0
        x, y = generate(dc.source, dc.n, dc.noise, np.random.default_rng(dc.seed), classes)
        d = from_arrays(x, y, kind, classes)
        if task == "regression" and kind == "classification":  # data.task: regression on labels
            d.prep = replace(d.prep, task="regression", labels=None)
        return d
    raise ConfigError(f"data.source: {dc.source!r} is neither a generator ({', '.join(GENERATORS)}) "
                      f"nor a {'/'.join(FILE_SUFFIXES)} file")


def from_config(dc: DataConfig, in_features: int, out_features: int, loss: LossName,
                opened: Dataset | None = None) -> Split:
    """The dataset a config's ``data`` section describes, split into training and validation rows
    (or with a validation file of its own), standardised on the training rows. ``opened`` is that
    dataset if it was opened already (to infer the sizes): the file is read once."""
    K = out_features
    d = opened if opened is not None else open_source(dc, loss)
    _check_fit(d, in_features, K, loss, dc.source)
    if dc.validation is not None:
        train, val = np.arange(len(d)), np.arange(0)
    else:
        train, val = split(len(d), dc.val_fraction, np.random.default_rng(dc.seed))
    if dc.standardize:
        d.fit_standardiser(train)
    val_data = _companion(dc.validation, dc, d, "data.validation") if dc.validation is not None else None
    if val_data is not None:
        val = np.arange(len(val_data))
    test = _companion(dc.test, dc, d, "data.test") if dc.test is not None else None
    return Split(d, train, val, K, loss, val_data, test)


def _companion(source: str, dc: DataConfig, d: Dataset, where: str) -> Dataset:
    """A validation or test file: the same columns as the source (by name, or by position), and
    the source's standardisation and labels."""
    if not _is_file(source):
        raise ConfigError(f"{where}: '{source}' is not a {'/'.join(FILE_SUFFIXES)} file")
    rows, cols, y_cols, _ = _open_file(source, dc, where)
    if len(cols) != d.in_features or len(y_cols) != len(d.target):
        raise InputError(f"{where}: '{source}' has {len(cols)} feature and {len(y_cols)} target column(s); "
                         f"data.source has {d.in_features} and {len(d.target)}")
    companion = Dataset(rows, cols, y_cols, d.prep, where)
    if d.prep.labels is not None:
        for block in rows.blocks(CHUNK_BYTES):  # every label must be one the network was trained on
            d.prep.class_indices(rows.decode(y_cols[0], block[:, y_cols[0]]), f"{where}: '{source}'")
    return companion


def _check_fit(d: Dataset, n: int, K: int, loss: str, source: str) -> None:
    check_fit(d.in_features, d.task, d.classes, len(d.target), n, K, loss, source)


def check_fit(features: int, task: Task, classes: int, t: int, n: int, K: int, loss: str, source: str) -> None:
    """Whether an n → … → K network with ``loss`` fits data of ``features`` columns, ``task``,
    ``classes`` (0 for none) and ``t`` target columns; a ConfigError naming the key, else None."""
    if features != n:
        raise ConfigError(f"model.in_features: {source} has {features} feature column(s), but model.in_features "
                          f"is {n}; leave it out to take it from the data")
    if task == "regression" and loss != "mse":
        raise ConfigError(f"loss.name: a regression task needs mse, got {loss}")
    if task == "regression" and t != K:
        raise ConfigError(f"model.out_features: {source} has {t} target column(s), so out_features must be {t} "
                          f"(got {K}); leave it out to take it from the data")
    if task == "classification" and classes and (K > 1 or loss == "cross_entropy") and classes != K:
        raise ConfigError(f"model.out_features: {source} has {classes} classes, so out_features must be "
                          f"{classes} (got {K}); leave it out to take it from the data")
    if task == "classification" and classes and K == 1 and classes != 2:
        raise ConfigError(f"model.out_features: {source} has {classes} classes; one output fits 2 classes only")
    if task == "classification" and not classes and t != K:
        raise ConfigError(f"model.out_features: {source} has {t} target column(s), so out_features must be {t} "
                          f"(got {K})")
