"""Rows of any input form, read a chunk at a time: inline values and .json held whole (they are
small), a .npy memory-mapped and read in contiguous slices (pages released after each), a .csv
parsed as it is read by the one CSV reader. Memory stays bounded by the chunk, whatever the
file's length. Each chunk is a ``Table``: numbers, and any column of text as codes."""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..formats.arrays import load_array, load_labels
from ..formats.table import Table, first_row, header_of, read_chunks
from .files import map_npy
from .targets import as_rows

CHUNK_ROWS = 8192


@dataclass
class RowStream:
    """A table's header (CSV files with one), width, and its rows as chunks."""

    header: list[str] | None
    width: int
    chunks: Iterator[Table]
    where: str


def open_rows(spec: str, where: str, n: int | None = None, chunk_rows: int = CHUNK_ROWS,
              labels: bool = False) -> RowStream:
    """Rows from inline values or a .csv/.npy/.json file. A 1-D input is one row — or, when the
    table has one column (``n`` = 1), one value per row (data/targets.as_rows). With ``labels``
    (targets of a classifier), inline, .json and .npy values may be text: one label per row."""
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        if not path.is_file():
            raise InputError(f"{where}: file '{path}' not found")
        first = first_row(path)
        header = header_of(first, str(path))
        return RowStream(header, len(first), read_chunks(path, header is not None, chunk_rows), where)
    if labels and suffix != ".csv":
        given = load_labels(spec, where)
        if given.dtype.kind in "US":  # text labels: one column of them, as a CSV's text column holds
            vocabulary, codes = np.unique(given, return_inverse=True)
            return RowStream(None, 1, iter([Table(codes.astype(np.float64)[:, None], {0: vocabulary})]), where)
    if suffix == ".npy":
        return _npy_rows(path, where, chunk_rows)
    a = as_rows(load_array(spec, where), n, where)  # .json, inline values, or a message naming the forms
    return RowStream(None, int(a.shape[1]), iter([Table(a)]), where)


def _npy_rows(path: Path, where: str, chunk_rows: int) -> RowStream:
    """A .npy's rows (a 1-D array: one value per row), read a slice at a time, its pages released after each."""
    a, mapping, _ = map_npy(path, where, one_column=True)

    def chunks() -> Iterator[Table]:
        for start in range(0, len(a), chunk_rows):
            block = np.array(a[start:start + chunk_rows], dtype=np.float64)
            mapping.madvise(mmap.MADV_DONTNEED)
            bad = ~np.isfinite(block).all(axis=1)
            if bad.any():
                raise InputError(f"{path}: row {start + int(np.argmax(bad))} has NaN or infinity")
            yield Table(block)

    return RowStream(None, int(a.shape[1]), chunks(), where)
