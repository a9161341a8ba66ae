"""SGD batches over a split's training rows: the order of each epoch, and how rows reach the step.

Small training sets (or small batches) are copied in shuffled order once per epoch, and batches
are views of that copy: the cheapest per step. Larger in-memory sets are gathered into one reused
buffer per batch. Memory-mapped rows are read through ``Rows`` (see files.py), batch by batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..core.activations import Array
from ..errors import InputError
from .dataset import Split

SHUFFLED_COPY_BYTES = 4 << 20  # training sets up to this size are copied in shuffled order each epoch
SHUFFLED_COPY_BATCH = 16  # ... and so are larger ones when batches are this small (per-step cost rules)


class Batches:
    """The training rows of ``split`` as batches of ``batch`` rows in ``dtype``, epoch after epoch.

    Each epoch visits every training row once, in a new seeded order when ``shuffle``."""

    def __init__(self, split: Split, batch: int, dtype: Any, shuffle: bool, seed: int):
        self.split, self.batch, self.dtype, self.shuffle = split, batch, np.dtype(dtype), shuffle
        self.rows = len(split.train)
        self._rng = np.random.default_rng(seed)
        self._in_memory = not split.data.rows.mapped
        n, K = split.data.in_features, split.K
        if self._in_memory:  # take every training row once, in the run's dtype
            x, raw = split.data.take(split.train)
            with np.errstate(over="ignore"):
                self._x = np.ascontiguousarray(x, dtype=self.dtype)
                self._y = np.ascontiguousarray(split.data.targets(raw, K, split.loss), dtype=self.dtype)
            for what, a in (("feature", self._x), ("target", self._y)):
                bad = ~np.isfinite(a).all(axis=1)
                if bad.any():
                    row, top = int(split.train[np.argmax(bad)]), float(np.finfo(self.dtype).max)
                    raise InputError(f"data.source: training row {row} has a {what} beyond the range of "
                                     f"train.dtype {self.dtype.name} (±{top:.1e})")
        self._xb = np.empty((batch, n), dtype=self.dtype)  # the gathered batch, reused every step
        self._yb = np.empty((batch, K), dtype=self.dtype)

    def _copied(self) -> bool:
        """True when each epoch's batches are views of a shuffled copy of all training rows."""
        return self._in_memory and (self._x.nbytes + self._y.nbytes <= SHUFFLED_COPY_BYTES
                                    or self.batch < SHUFFLED_COPY_BATCH)

    def epoch(self) -> Iterator[tuple[Array, Array]]:
        """The next epoch's batches (x (b, n), y (b, K)); the last may be shorter."""
        order = self._rng.permutation(self.rows) if self.shuffle else np.arange(self.rows)
        B = self.batch
        if self._copied():
            x, y = self._x[order], self._y[order]
            for start in range(0, len(order), B):
                yield x[start:start + B], y[start:start + B]
            return
        split = self.split
        for start in range(0, len(order), B):
            idx = order[start:start + B]
            b = len(idx)
            if self._in_memory:
                np.take(self._x, idx, axis=0, out=self._xb[:b], mode="clip")  # idx is in range: skip the check
                np.take(self._y, idx, axis=0, out=self._yb[:b], mode="clip")
            else:  # sorted, so that reads from the mapped file stay local
                x, raw = split.data.take(split.train[np.sort(idx)])
                self._xb[:b] = x
                self._yb[:b] = split.data.targets(raw, split.K, split.loss)
            yield self._xb[:b], self._yb[:b]
