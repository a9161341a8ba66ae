"""What a trained network expects of its input rows, saved with the run: which columns of a table
are features and targets (by position and, for files with a header, by name), the standardisation
fitted on the training rows, and the class labels of a classifier.

Pure numpy; ``to_dict``/``from_dict`` give plain values that JSON holds exactly (floats by repr).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.activations import Array
from ..core.metrics import Task
from ..errors import InputError, ShapeError
from ..formats.write import label_value

MAX_CLASSES = 1000


@dataclass(frozen=True)
class Preprocessing:
    """Columns, standardisation and labels of the data a network was trained on."""

    task: Task
    width: int  # columns of the training table (features, targets and any others)
    features: tuple[int, ...]  # its feature columns, in the order the network takes them
    target: tuple[int, ...]  # its target column(s)
    names: tuple[str, ...] | None = None  # the header of the training file, when it had one
    labels: Array | None = None  # classification: the class values, sorted; class i is labels[i]
    mean: Array | None = None  # standardisation of the features (training rows), if fitted
    std: Array | None = None

    @property
    def in_features(self) -> int:
        """n, the number of feature columns."""
        return len(self.features)

    @property
    def feature_names(self) -> list[str] | None:
        """The feature columns' names, when the training file had a header."""
        return None if self.names is None else [self.names[c] for c in self.features]

    @property
    def target_names(self) -> list[str] | None:
        """The target columns' names, when the training file had a header."""
        return None if self.names is None else [self.names[c] for c in self.target]

    def standardise(self, x: Array) -> Array:
        """(x − mean) / std when fitted, else x."""
        if self.mean is None or self.std is None:
            return x
        return (x - self.mean) / self.std

    def class_indices(self, raw: Array, where: str) -> Array:
        """Class values (b,) → indices 0..C−1 into ``labels``; an unknown value is an InputError.
        Labels and values may be numbers or text; a number is matched to a text label by its text."""
        assert self.labels is not None
        if self.labels.dtype.kind in "US" and raw.dtype.kind not in "US":
            raw = np.array([str(label_value(v)) for v in raw])
        elif self.labels.dtype.kind not in "US" and raw.dtype.kind in "US":
            raise InputError(f"{where}: {_values(np.unique(raw)[:3])} — text, but the classes of the training data "
                             f"are numbers ({_values(self.labels[:20])})")
        idx = np.clip(np.searchsorted(self.labels, raw), 0, len(self.labels) - 1)
        unknown = self.labels[idx] != raw
        if unknown.any():
            bad = np.unique(raw[unknown])[:3]
            raise InputError(f"{where}: {_values(bad)} {'is not a class' if len(bad) == 1 else 'are not classes'} "
                             f"of the training data (classes: {_values(self.labels[:20])})")
        return idx

    def target_classes(self, raw: Array, where: str) -> Array:
        """Targets (b, t) as class indices (b,): one column of class values, or one-hot rows with a
        column per class (the class is each row's 1)."""
        assert self.labels is not None
        if raw.shape[1] == 1:
            return self.class_indices(raw[:, 0], where)
        C = len(self.labels)
        if raw.shape[1] != C or raw.dtype.kind in "US":
            raise ShapeError(f"{where}: {raw.shape[1]} target columns; expected one column of class labels, or "
                             f"{C} one-hot columns (one per class)")
        if not (np.isin(raw, (0, 1)).all() and (raw.sum(axis=1) == 1).all()):
            row = int(np.argmax(~(np.isin(raw, (0, 1)).all(axis=1) & (raw.sum(axis=1) == 1))))
            raise InputError(f"{where}: target row {row + 1} is not one-hot (a single 1 among {C} columns)")
        classes: Array = raw.argmax(axis=1)
        return classes

    def columns(self, width: int, header: list[str] | None, where: str, targets: bool = False) -> list[int]:
        """Which columns of a table of ``width`` (with ``header``) are the features — or, with
        ``targets``, the targets: by name if the table has a header and the training file had one
        (then every name must be there, in any order), else every column when the table has
        exactly that many, else the training positions when it is as wide as the training table."""
        wanted = self.target if targets else self.features
        what = "target" if targets else "feature"
        names = self.target_names if targets else self.feature_names
        if header is not None and names is not None:  # a header must name every column the network takes
            missing = [c for c in names if c not in header]
            if not missing:
                return [header.index(c) for c in names]
            shown = ", ".join(repr(c) for c in missing[:4]) + (", …" if len(missing) > 4 else "")
            hint = "; pass the targets with --target" if targets else ""
            raise ShapeError(f"{where}: no {what} column named {shown} in the header (the training file's "
                             f"{what} columns: {', '.join(names[:6])}{', …' if len(names) > 6 else ''}){hint}")
        if width == len(wanted) and not targets:
            return list(range(width))
        if width == self.width:
            return list(wanted)
        known = f" ({', '.join(names[:4])}{', …' if len(names) > 4 else ''})" if names else ""
        alone = "pass the targets with --target" if targets else "give the features alone"
        raise ShapeError(f"{where}: {width} column(s), but the network takes {len(wanted)} {what} column(s){known} "
                         f"of a {self.width}-column table; {alone}, or rows as wide as the training file"
                         + (", or a header naming them" if names else ""))

    def to_dict(self) -> dict[str, Any]:
        """Plain values (lists, numbers, strings) for preprocessing.json."""
        return {
            "task": self.task,
            "columns": self.width,
            "features": list(self.features),
            "target": list(self.target),
            "names": None if self.names is None else list(self.names),
            "feature_names": self.feature_names,
            "target_names": self.target_names,
            "labels": None if self.labels is None else [label_value(v) for v in self.labels],
            "standardize": None if self.mean is None or self.std is None else
            {"mean": self.mean.tolist(), "std": self.std.tolist()},
        }

    @classmethod
    def from_dict(cls, d: Any, where: str) -> Preprocessing:
        """The inverse of ``to_dict``, checked as strictly as a config: column indices within the
        table, each once, features apart from targets; one name per column, each once; class labels
        sorted and distinct (at most MAX_CLASSES); a standardisation per feature. Anything else is
        an InputError naming ``where`` and the field."""
        def bad(field: str, why: str) -> InputError:
            return InputError(f"{where}: {field}: {why} (not a preprocessing record twonet wrote)")

        if not isinstance(d, dict):
            raise bad("top level", "expected a mapping")
        try:
            std = d["standardize"]
            mean, dev = (None, None) if std is None else (_floats(std["mean"]), _floats(std["std"]))
            p = cls(task=d["task"], width=_count(d["columns"]), features=_indices(d["features"]),
                    target=_indices(d["target"]),
                    names=None if d["names"] is None else tuple(_text(c) for c in d["names"]),
                    labels=None if d["labels"] is None else _labels(d["labels"]), mean=mean, std=dev)
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"{where}: not a preprocessing record of twonet ({type(e).__name__}: {e})") from None
        if p.task not in ("regression", "classification"):
            raise bad("task", f"expected regression or classification, got {p.task!r}")
        for field, cols in (("features", p.features), ("target", p.target)):
            if not cols or len(set(cols)) != len(cols) or not all(0 <= c < p.width for c in cols):
                raise bad(field, f"column indices must be distinct, within 0..{p.width - 1}, got {list(cols)[:8]}")
        if set(p.features) & set(p.target):
            raise bad("features", "a column is also the target")
        if p.names is not None and (len(p.names) != p.width or len(set(p.names)) != len(p.names)):
            raise bad("names", f"expected {p.width} distinct column names, got {len(p.names)}")
        if p.labels is not None and (len(p.labels) > MAX_CLASSES or len(p.labels) < 2 or
                                     (len(p.labels) > 1 and not bool(np.all(p.labels[1:] > p.labels[:-1])))):
            raise bad("labels", f"expected 2 to {MAX_CLASSES:,} class labels, sorted and distinct")
        if mean is not None and (mean.shape != (p.in_features,) or dev is None or dev.shape != mean.shape or
                                 not (dev > 0).all()):
            raise bad("standardize", f"expected a mean and a positive std for each of the {p.in_features} features")
        return p


def _count(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 10**7:
        raise ValueError(f"expected a count of columns, got {v!r}")
    return v


def _indices(v: Any) -> tuple[int, ...]:
    if not isinstance(v, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in v):
        raise ValueError(f"expected a list of column indices, got {str(v)[:40]}")
    return tuple(v)


def _text(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError(f"expected a column name, got {v!r}")
    return v


def class_labels(values: Array, where: str) -> Array:
    """The distinct class values of a target column, sorted (at most MAX_CLASSES)."""
    labels = np.unique(values)
    if len(labels) > MAX_CLASSES:
        raise InputError(f"{where}: {len(labels):,} distinct target values are too many classes (at most "
                         f"{MAX_CLASSES}); for a regression use loss.name: mse (or data.task: regression)")
    return labels


def _labels(v: Any) -> Array:
    """Class labels from preprocessing.json: all text, or all numbers."""
    if isinstance(v, list) and v and all(isinstance(c, str) for c in v):
        return np.array(v)
    return _floats(v)


def _floats(v: Any) -> Array:
    a = np.asarray(v, dtype=np.float64)
    if a.ndim != 1 or not np.isfinite(a).all():
        raise ValueError("expected a list of finite numbers")
    return a


def _values(a: Array) -> str:
    return ", ".join(str(label_value(v)) for v in a)
