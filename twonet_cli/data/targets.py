"""Arrays as the network takes them, by one rule each: x as a batch (B, n), and targets y as
(B, K) for the loss — class indices one-hot where the loss or the outputs need it."""

from __future__ import annotations

import numpy as np

from ..core.activations import Array
from ..core.losses import LossName, one_hot
from ..errors import InputError, ShapeError


def as_rows(a: Array, width: int | None, where: str) -> Array:
    """An array as a table of rows: 2-D as it is; a 1-D array is one row, or — when the table has
    one column (``width`` = 1) — one value per row; a single number is one row of one value."""
    if a.ndim == 0 or (a.ndim == 1 and width == 1):
        return a.reshape(-1, 1)
    if a.ndim == 1:
        return a[None, :]
    if a.ndim != 2:
        raise ShapeError(f"{where}: expected rows of numbers, got an array of shape {a.shape}")
    return a


def as_inputs(x: Array, n: int, where: str) -> Array:
    """x as a batch (B, n): a vector of n numbers is one sample; for n = 1 a vector is B samples."""
    x = as_rows(x, n, where)
    if x.shape[1] != n:
        raise ShapeError(f"{where}: expected {n} value(s) per sample (in_features = {n}), got shape {x.shape}")
    return x


def as_targets(y: Array, K: int, batch: int, loss: LossName, where: str) -> Array:
    """y as (B, K) for the loss. A vector of B class indices becomes one-hot rows for cross_entropy."""
    if loss == "cross_entropy" and y.size == batch and (y.ndim <= 1 or y.shape[-1] == 1):
        idx = y.reshape(-1)
        if not (np.all(idx == np.round(idx)) and np.all((idx >= 0) & (idx < K))):
            bad = idx[(idx != np.round(idx)) | (idx < 0) | (idx >= K)][:3]
            raise InputError(f"{where}: class indices must be integers in 0..{K - 1}, got {bad.tolist()}")
        y = one_hot(idx.astype(np.int64), K)
    else:
        y = as_rows(y, K, where)
    if y.shape != (batch, K):
        raise ShapeError(
            f"{where}: expected {batch} target(s) of {K} value(s) (out_features = {K}), got shape {y.shape}"
        )
    if loss == "bce" and not np.all((y >= 0) & (y <= 1)):
        bad = y[(y < 0) | (y > 1)][0]
        raise InputError(f"{where}: bce targets must lie in [0, 1], got {bad:g}")
    if loss == "cross_entropy" and not (np.all(y >= 0) and np.allclose(y.sum(axis=1), 1.0, rtol=0, atol=1e-9)):
        raise InputError(f"{where}: cross_entropy targets must be class indices or one-hot rows (each summing to 1)")
    return y


def class_targets(idx: Array, K: int, loss: LossName) -> Array:
    """Class indices (b,) as the loss's targets (b, K): one-hot rows when K > 1 (or for
    cross-entropy), else the index itself (0 or 1) as one column."""
    if K > 1 or loss == "cross_entropy":
        return one_hot(idx, K)
    return idx[:, None].astype(np.float64)
