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
        """The inverse of ``to_dict``; anything malformed is an InputError naming ``where``."""
        try:
            std = d["standardize"]
            mean, dev = (None, None) if std is None else (_floats(std["mean"]), _floats(std["std"]))
            p = cls(task=d["task"], width=int(d["columns"]), features=tuple(int(c) for c in d["features"]),
                    target=tuple(int(c) for c in d["target"]),
                    names=None if d["names"] is None else tuple(str(c) for c in d["names"]),
                    labels=None if d["labels"] is None else _labels(d["labels"]), mean=mean, std=dev)
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"{where}: not a preprocessing record of twonet ({type(e).__name__}: {e})") from None
        if p.task not in ("regression", "classification") or (mean is not None and (
                mean.shape != (p.in_features,) or dev is None or dev.shape != mean.shape or not (dev > 0).all())):
            raise InputError(f"{where}: not a preprocessing record of twonet (inconsistent fields)")
        return p


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
