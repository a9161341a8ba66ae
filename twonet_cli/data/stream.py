"""Rows of any input form, read a chunk at a time: inline values and .json held whole (they are
small), a .npy memory-mapped and read in contiguous slices (pages released after each), a .csv
parsed as it is read. Memory stays bounded by the chunk, whatever the file's length."""

from __future__ import annotations

import csv
import itertools
import mmap
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.activations import Array
from ..errors import InputError
from ..formats.arrays import is_number, load_array, parse_inline

CHUNK_ROWS = 8192


@dataclass
class RowStream:
    """A table's header (CSV files with one), width, and its rows as float64 chunks."""

    header: list[str] | None
    width: int
    chunks: Iterator[Array]
    where: str


def open_rows(spec: str, where: str, n: int | None = None, chunk_rows: int = CHUNK_ROWS) -> RowStream:
    """Rows from inline values or a .csv/.npy/.json file. A 1-D input is one row — or, when the
    network takes one feature (``n`` = 1), one value per row."""
    suffix = Path(spec).suffix.lower()
    if suffix == ".csv":
        return _csv_rows(Path(spec), where, chunk_rows)
    if suffix == ".npy":
        return _npy_rows(Path(spec), where, chunk_rows)
    a = load_array(spec, where) if suffix == ".json" else parse_inline(spec, where)
    if a.ndim == 0 or (a.ndim == 1 and n == 1):
        a = a.reshape(-1, 1)
    elif a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise InputError(f"{where}: expected rows of numbers, got an array of shape {a.shape}")
    return RowStream(None, int(a.shape[1]), iter([a]), where)


def _npy_rows(path: Path, where: str, chunk_rows: int) -> RowStream:
    if not path.is_file():
        raise InputError(f"{where}: file '{path}' not found")
    try:
        a = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise InputError(f"{path}: not a readable .npy file ({str(e).splitlines()[0] if str(e) else e!r})") from None
    if a.dtype.kind not in "iuf" or a.ndim not in (1, 2) or a.size == 0:
        raise InputError(f"{path}: expected a 1-D or 2-D array of numbers, got shape {a.shape} of {a.dtype}")
    if a.ndim == 1:
        a = a.reshape(-1, 1)

    def chunks() -> Iterator[Array]:
        mapping = getattr(a, "_mmap", None)
        for start in range(0, len(a), chunk_rows):
            block = np.array(a[start:start + chunk_rows], dtype=np.float64)
            if isinstance(mapping, mmap.mmap):
                mapping.madvise(mmap.MADV_DONTNEED)
            bad = ~np.isfinite(block).all(axis=1)
            if bad.any():
                raise InputError(f"{path}: row {start + int(np.argmax(bad))} has NaN or infinity")
            yield block

    return RowStream(None, int(a.shape[1]), chunks(), where)


def _csv_reader(path: Path) -> Generator[list[str], None, None]:
    """The non-blank rows of a CSV file, the file closed when they end or are abandoned."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:  # -sig: a byte-order mark is not data
            yield from (r for r in csv.reader(fh) if any(c.strip() for c in r))
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    except (csv.Error, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not a readable CSV file ({e})") from None


def _csv_rows(path: Path, where: str, chunk_rows: int) -> RowStream:
    """A CSV's header (a first row that is not all numbers) and width, read now; its rows, as the
    chunks are asked for (the file is opened again for them, so nothing stays open meanwhile)."""
    if not path.is_file():
        raise InputError(f"{where}: file '{path}' not found")
    reader = _csv_reader(path)
    first = next(reader, None)
    reader.close()
    if first is None:
        raise InputError(f"{path}: no data rows")
    header = None if all(is_number(c) for c in first) else [c.strip() for c in first]
    width = len(first)

    def chunks() -> Iterator[Array]:
        rows = _csv_reader(path)
        if header is not None:
            next(rows, None)
        number = 0
        try:
            while block := list(itertools.islice(rows, chunk_rows)):
                values = []
                for r in block:
                    number += 1
                    if len(r) != width:
                        raise InputError(f"{path}: data row {number} has {len(r)} values, expected {width}")
                    try:
                        values.append([float(c) for c in r])
                    except ValueError:
                        bad = next(c for c in r if not is_number(c))
                        raise InputError(f"{path}: data row {number}: '{bad.strip()}' is not a number") from None
                a = np.asarray(values, dtype=np.float64)
                bad_rows = ~np.isfinite(a).all(axis=1)
                if bad_rows.any():
                    raise InputError(f"{path}: data row {number - len(a) + 1 + int(np.argmax(bad_rows))} has NaN "
                                     "or infinity")
                yield a
        finally:
            rows.close()
        if number == 0:
            raise InputError(f"{path}: no data rows")

    return RowStream(header, width, chunks(), where)
