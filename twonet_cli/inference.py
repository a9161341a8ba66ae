"""A trained network put to use: predictions for new rows, and scores against labelled rows,
with the run's own preprocessing (feature columns, standardisation, class labels), streamed a
chunk of rows at a time. Prints nothing; the commands render what these return."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .core.activations import Array
from .core.losses import Loss
from .core.metrics import ClassScores, RegressionScores, predicted_class
from .core.model import Net, Params, forward
from .data.preprocessing import Preprocessing
from .data.stream import RowStream
from .data.targets import class_targets
from .errors import InputError, ShapeError
from .formats.table import Table


@dataclass(frozen=True)
class Model:
    """A network, its parameters, and the preprocessing of the data it was trained on."""

    net: Net
    params: Params
    prep: Preprocessing

    @property
    def K(self) -> int:  # noqa: N802 (the exercise's name)
        """Outputs of the network."""
        return int(self.params.b2.shape[0])

    @property
    def classifier(self) -> bool:
        """True when the network predicts class labels."""
        return self.prep.task == "classification" and self.prep.labels is not None

    @property
    def text_labels(self) -> bool:
        """True when the class labels are text (setosa, cat), not numbers."""
        return self.classifier and self.prep.labels is not None and self.prep.labels.dtype.kind in "US"

    def columns(self) -> list[str]:
        """The columns of a prediction table: ŷ per output, then the label for a classifier."""
        names = ["y_hat"] if self.K == 1 else [f"y_hat_{k}" for k in range(self.K)]
        if self.prep.task == "regression" and self.prep.target_names and len(self.prep.target_names) == self.K:
            names = [f"y_hat_{t}" for t in self.prep.target_names] if self.K > 1 else names
        return [*names, "label"] if self.classifier else names

    def classes(self, y_hat: Array) -> Array:
        """Predicted class indices: argmax of ŷ, or ŷ > 0.5 for one output."""
        return predicted_class(y_hat)

    def labels(self, idx: Array) -> Array:
        """Class indices → the class values of the training data."""
        assert self.prep.labels is not None
        return self.prep.labels[idx]


def features(model: Model, stream: RowStream) -> Iterator[Array]:
    """The standardised feature columns of each chunk of ``stream`` (the columns are checked now,
    before any row is read; a feature column of text is refused)."""
    cols = model.prep.columns(stream.width, stream.header, stream.where)

    def chunks() -> Iterator[Array]:
        for table in stream.chunks:
            table.require_numbers(cols, stream.header, stream.where)
            block = table.values
            x = block if cols == list(range(block.shape[1])) else np.ascontiguousarray(block[:, cols])
            yield model.prep.standardise(x)

    return chunks()


def predict(model: Model, stream: RowStream) -> Iterator[tuple[Array, Array | None]]:
    """For each chunk: ŷ (b, K), and for a classifier the class labels (b,) — numbers or text —
    (the columns are checked now, before any row is read)."""
    xs = features(model, stream)

    def chunks() -> Iterator[tuple[Array, Array | None]]:
        with np.errstate(over="ignore"):
            for x in xs:
                y_hat = forward(model.net, model.params, x).y_hat
                if not np.isfinite(y_hat).all():
                    raise InputError(f"{stream.where}: a prediction is not finite in float64: an input row is far "
                                     "outside the training data's range, or the parameters are (a diverged run?)")
                yield y_hat, model.labels(model.classes(y_hat)) if model.classifier else None

    return chunks()


def _as_written(table: Table, cols: list[int]) -> Array:
    """Columns ``cols`` of a chunk (b, len(cols)) as the file wrote them: text where a column holds text."""
    if not any(c in table.text for c in cols):
        return table.values[:, cols]
    return np.stack([table.column(c) for c in cols], axis=1)


def labelled(model: Model, stream: RowStream, targets: RowStream | None) -> Iterator[tuple[Array, Array]]:
    """(x standardised, targets (b, t) as written: numbers, or class labels as text) of labelled
    rows: the target columns of ``stream`` itself (by name, or at their training positions), or
    every column of a separate ``targets``."""
    if targets is None:
        cols = model.prep.columns(stream.width, stream.header, stream.where)
        tcols = model.prep.columns(stream.width, stream.header, stream.where, targets=True)
        for table in stream.chunks:
            table.require_numbers(cols, stream.header, stream.where)
            table.refuse_missing(tcols, stream.header, stream.where)
            yield model.prep.standardise(np.ascontiguousarray(table.values[:, cols])), _as_written(table, tcols)
        return
    yield from _paired(features(model, stream), targets, stream.where)


def _paired(xs: Iterator[Array], ys: RowStream, where: str) -> Iterator[tuple[Array, Array]]:
    """Chunks of x with as many rows of ``ys``, whatever sizes each stream's chunks have."""
    pending: list[Array] = []
    held = 0
    every = list(range(ys.width))
    def checked(t: Table) -> Array:
        t.refuse_missing(every, ys.header, ys.where)
        return _as_written(t, every)

    y_chunks = (checked(t) for t in ys.chunks)
    for x in xs:
        while held < len(x):
            nxt = next(y_chunks, None)
            if nxt is None:
                raise ShapeError(f"{ys.where}: fewer target rows than {where} rows")
            pending.append(nxt)
            held += len(nxt)
        y = np.concatenate(pending)
        pending, held = [y[len(x):]], held - len(x)
        yield x, y[:len(x)]
    if held or next(y_chunks, None) is not None:
        raise ShapeError(f"{ys.where}: more target rows than {where} rows")


def evaluate(model: Model, rows: Iterator[tuple[Array, Array]]) -> dict[str, Any]:
    """Scores of the model on labelled rows: its loss (per element, or per sample for cross-entropy),
    and scikit-learn's classification or regression metrics (core.metrics)."""
    net, K, prep = model.net, model.K, model.prep
    mean_loss = Loss(net.loss.name, "mean")
    log_loss = _log_loss(model)
    loss_sum, units, count = 0.0, 0, 0
    cls = ClassScores(len(prep.labels)) if model.classifier and prep.labels is not None else None
    reg = None if cls is not None else RegressionScores(K)
    with np.errstate(over="ignore"):
        for x, raw in rows:
            if not len(x):
                continue
            c = forward(net, model.params, x)
            if cls is not None:
                true = prep.target_classes(raw, "the targets")
                y = class_targets(true, K, net.loss.name)
                cls.add(true, model.classes(c.y_hat),
                        float(log_loss.value(net.g, c.z3, y, c.y_hat)) if log_loss is not None else 0.0)
            else:
                if raw.dtype.kind in "US":
                    raise InputError(f"the targets hold text ({raw.reshape(-1)[0]!r}); this network is a regression")
                if raw.shape[1] != K:
                    raise ShapeError(f"the targets have {raw.shape[1]} column(s); the network has {K} output(s)")
                y = raw
                assert reg is not None
                reg.add(c.y_hat, y)
            n = mean_loss.mean_divisor(*y.shape)
            loss_sum += float(mean_loss.value(net.g, c.z3, y, c.y_hat)) * n
            units += n
            count += len(x)
    if not count:
        raise InputError("no labelled rows to score")
    out: dict[str, Any] = {"task": prep.task, "rows": count, "loss": loss_sum / units, "loss_name": net.loss.name}
    if cls is not None:
        out["classification"] = cls.report()
        out["log_loss"] = cls.log_loss_sum / count if log_loss is not None else None
    else:
        assert reg is not None
        out["regression"] = reg.report()
    if not np.isfinite(out["loss"]):
        raise InputError("the loss is not finite in float64: an input row is far outside the training data's range, "
                         "or the parameters are (a diverged run?)")
    return out


def _log_loss(model: Model) -> Loss | None:
    """The log-loss of a classifier whose outputs are probabilities (σ for one output, softmax),
    summed over rows, computed exactly from the logits; None otherwise."""
    g = model.net.g.name
    if g == "softmax":
        return Loss("cross_entropy", "sum")
    if g == "sigmoid" and model.K == 1:
        return Loss("bce", "sum")
    return None
