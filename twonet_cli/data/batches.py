"""SGD batches over a split's training rows: the order of each epoch, and how rows reach the step.

Small training sets (or small batches) are copied in shuffled order once per epoch, into one
buffer reused every epoch, and batches are views of that copy: the cheapest per step. Larger
in-memory sets are gathered into one reused buffer per batch.

Memory-mapped rows (a .npy) are streamed: the training rows are cut into chunks of about
MAPPED_CHUNK_BYTES of the file, each read as one contiguous slice (its pages released at once).
An epoch visits the chunks in a new seeded order and shuffles the rows within each chunk — a
two-level shuffle, as streaming loaders do — so it reads the file at the disk's speed and holds
one chunk in memory, whatever the file's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..core.activations import Array
from ..errors import InputError
from .dataset import Split

MAPPED_CHUNK_BYTES = 16 << 20  # a memory-mapped file is read this much at a time
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
        self._shuffled: tuple[Array, Array] | None = None  # the shuffled copy of every row, reused every epoch
        self._xb = np.empty((batch, n), dtype=self.dtype)  # the gathered batch, reused every step
        self._yb = np.empty((batch, K), dtype=self.dtype)

    @property
    def copies_rows(self) -> bool:
        """True when each epoch's batches are views of a shuffled copy of all training rows."""
        return self._in_memory and (self._x.nbytes + self._y.nbytes <= SHUFFLED_COPY_BYTES
                                    or self.batch < SHUFFLED_COPY_BATCH)

    @property
    def epoch_targets(self) -> Array | None:
        """The targets of the epoch under way, in the order its batches come (the copy they are views
        of), when ``copies_rows``; else None."""
        return self._shuffled[1] if self.copies_rows and self._shuffled is not None else None

    def epoch(self) -> Iterator[tuple[Array, Array]]:
        """The next epoch's batches (x (b, n), y (b, K)); the last may be shorter."""
        order = self._rng.permutation(self.rows) if self.shuffle else np.arange(self.rows)
        B = self.batch
        if self.copies_rows:
            if self._shuffled is None:  # the epoch's copy, in a buffer made once
                self._shuffled = np.empty_like(self._x), np.empty_like(self._y)
            x, y = self._shuffled
            np.take(self._x, order, axis=0, out=x, mode="clip")  # order is a permutation: in range
            np.take(self._y, order, axis=0, out=y, mode="clip")
            for start in range(0, len(order), B):
                yield x[start:start + B], y[start:start + B]
            return
        if not self._in_memory:
            yield from self._streamed()
            return
        for start in range(0, len(order), B):
            idx = order[start:start + B]
            b = len(idx)
            np.take(self._x, idx, axis=0, out=self._xb[:b], mode="clip")  # idx is in range: skip the check
            np.take(self._y, idx, axis=0, out=self._yb[:b], mode="clip")
            yield self._xb[:b], self._yb[:b]

    def _streamed(self) -> Iterator[tuple[Array, Array]]:
        """An epoch of a memory-mapped file: chunks (a whole number of batches each) in a seeded
        order, each read as one slice, and batches gathered from it in a seeded order within it."""
        split, data, B = self.split, self.split.data, self.batch
        train = split.train  # sorted row indices
        per_chunk = max(1, MAPPED_CHUNK_BYTES // (8 * int(data.rows.array.shape[1])) // B) * B
        starts = np.arange(0, len(train), per_chunk)
        whole = len(train) // per_chunk  # chunks of whole batches in a seeded order; a shorter one last
        chunk_order = np.concatenate([self._rng.permutation(whole) if self.shuffle else np.arange(whole),
                                      np.arange(whole, len(starts))])
        n = data.in_features
        for c in chunk_order:
            rows = train[starts[c]:starts[c] + per_chunk]
            lo, hi = int(rows[0]), int(rows[-1]) + 1
            block = data.rows.span(lo, hi)
            if hi - lo != len(rows):  # validation rows lie between: keep the training ones
                block = block[rows - lo]
            x = np.ascontiguousarray(block[:, data.features] if data.features != list(range(n)) else block[:, :n])
            x = data.prep.standardise(x)  # contiguous: np.take then copies whole rows
            y = data.targets(block[:, data.target], split.K, split.loss)
            order = self._rng.permutation(len(rows)) if self.shuffle else np.arange(len(rows))
            for start in range(0, len(order), B):
                idx = order[start:start + B]
                b = len(idx)
                np.take(x, idx, axis=0, out=self._xb[:b], mode="clip")
                np.take(y, idx, axis=0, out=self._yb[:b], mode="clip")
                yield self._xb[:b], self._yb[:b]
