"""A dataset file's rows: CSV and NPZ read into memory, NPY memory-mapped (it may exceed memory).

Memory-map policy lives here, in ``Rows``: how a mapped file is read and when its pages are let go.
"""

from __future__ import annotations

import mmap
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..core.activations import Array
from ..errors import InputError
from ..formats.arrays import numpy_reason
from ..formats.table import Table, is_missing, read_csv


class Rows:
    """A 2-D table of rows, in memory or memory-mapped, read by row indices.

    Rows of a memory-mapped file are read a few at a time, and the file's pages released from
    this process after each group (they stay in the kernel's page cache): the kernel maps a whole
    page-cache folio — up to 2 MB — around every row touched, so a batch of 128 scattered rows
    read at once could map 256 MB, and an epoch the whole file. Releasing costs ~1 µs a group.
    """

    ROWS_PER_RELEASE = 8  # at most ~16 MB of a mapped file resident at any moment

    def __init__(self, array: Array, mapping: mmap.mmap | None = None, y_columns: int = 1,
                 source: tuple[Path, int] | None = None, text: dict[int, Array] | None = None):
        self.array, self._mapping, self.y_columns = array, mapping, y_columns  # y_columns: .npz's y width
        self.text = text or {}  # a column of text (class labels) → its vocabulary; the column holds codes
        self._source = source  # (file, offset of row 0) of a mapped .npy, for reads of whole slices

    def __len__(self) -> int:
        """The number of rows."""
        return int(self.array.shape[0])

    @property
    def mapped(self) -> bool:
        """True when the rows are read from a memory-mapped file rather than held in memory."""
        return self._mapping is not None

    def decode(self, col: int, values: Array) -> Array:
        """Values read from column ``col`` as the file wrote them: text for a column of text."""
        return self.text[col][values.astype(np.int64)] if col in self.text else values

    def take(self, idx: Array) -> Array:
        """Rows ``idx`` as an in-memory float array."""
        if self._mapping is None:
            return np.asarray(self.array[idx], dtype=np.float64)
        if len(idx) and idx[-1] - idx[0] < 4 * len(idx) and bool(np.all(idx[1:] > idx[:-1])):
            block: Array = self.span(int(idx[0]), int(idx[-1]) + 1)
            picked: Array = block[idx - idx[0]]  # dense and sorted: one slice
            return picked
        out = np.empty((len(idx), self.array.shape[1]), dtype=np.float64)
        for start in range(0, len(idx), self.ROWS_PER_RELEASE):
            stop = start + self.ROWS_PER_RELEASE
            out[start:stop] = self.array[idx[start:stop]]
            self._mapping.madvise(mmap.MADV_DONTNEED)
        return out


    def span(self, start: int, stop: int) -> Array:
        """Rows start..stop−1, read as one contiguous slice into memory (a mapped file's pages are
        released right after): the fast way to stream a file."""
        if self._source is not None:  # read(2) into the buffer: no page faults, nothing left mapped
            path, offset = self._source
            stop = min(stop, len(self))
            raw = np.empty((max(stop - start, 0), self.array.shape[1]), dtype=self.array.dtype)
            with path.open("rb", buffering=0) as fh:
                fh.seek(offset + start * self.array.strides[0])
                view, got = memoryview(raw.reshape(-1).view(np.uint8)), 0  # type: ignore[arg-type]
                while got < raw.nbytes:
                    n = fh.readinto(view[got:])
                    if not n:
                        raise InputError(f"{path}: the file ended early (was it changed during the run?)")
                    got += n
            return raw if raw.dtype == np.float64 else raw.astype(np.float64)
        block = np.array(self.array[start:stop], dtype=np.float64)
        if self._mapping is not None:
            self._mapping.madvise(mmap.MADV_DONTNEED)
        return block

    def blocks(self, chunk_bytes: int) -> Iterator[Array]:
        """All rows in order, as in-memory float arrays of about ``chunk_bytes`` each; a mapped
        file is read in contiguous slices, its pages released after each."""
        size = max(1, chunk_bytes // (8 * max(1, int(self.array.shape[1]))))
        for start in range(0, len(self), size):
            yield self.span(start, start + size)


def _column(spec: int | str, header: list[str] | None, width: int, where: str) -> int:
    if isinstance(spec, str):
        if header is None or spec not in header:
            raise InputError(f"{where}: no column named {spec!r}" + (f" (columns: {', '.join(header)})" if header else
                                                                      " (the file has no header row)"))
        return header.index(spec)
    if not -width <= spec < width:
        raise InputError(f"{where}: column {spec} is out of range for {width} columns")
    return spec % width


def load_file(path: Path, features: list[int | str] | None, target: int | str | list[int | str] | None,
              x_key: str, y_key: str, where: str = "data.source"
              ) -> tuple[Rows, list[int], list[int], list[str] | None]:
    """A file's rows, which columns are x and which y (default: the last column is the target), and
    its header (CSV files with one; None otherwise)."""
    if not path.is_file():
        raise InputError(f"{where}: file '{path}' not found")
    header: list[str] | None = None
    table: Table | None = None  # a CSV's cells, whose missing ones are refused in the columns read
    match path.suffix.lower():
        case ".csv":
            header, table = read_csv(path)
            rows = Rows(table.values, text=table.text)
        case ".npy":
            rows = _memory_mapped(path, where)
        case _:
            rows = _read_npz(path, x_key, y_key)
    width = int(rows.array.shape[1])
    if path.suffix.lower() == ".npz" and target is None:  # y may have several columns: all of them
        target = list(range(width - rows.y_columns, width)) if rows.y_columns > 1 else None
    specs = target if isinstance(target, list) else [-1 if target is None else target]
    if not specs:
        raise InputError("data.target: an empty list names no column")
    y_cols = [_column(t, header, width, "data.target" + (f"[{i}]" if isinstance(target, list) else ""))
              for i, t in enumerate(specs)]
    if len(set(y_cols)) != len(y_cols):
        raise InputError("data.target: a column is named twice")
    cols = [c for c in range(width) if c not in y_cols] if features is None else [
        _column(c, header, width, f"data.features[{i}]") for i, c in enumerate(features)]
    if not cols:
        raise InputError(f"{where}: '{path}' has no feature columns besides the target")
    if len(set(cols)) != len(cols):
        twice = next(c for c in cols if cols.count(c) > 1)
        raise InputError(f"data.features: column {header[twice] if header else twice!r} is named twice")
    if table is not None:  # only a CSV has missing cells or text; an .npz's x is numbers, checked on reading
        table.refuse_missing([*cols, *y_cols], header, str(path))
        table.refuse_text(cols, header, str(path))
    both = sorted(set(cols) & set(y_cols))
    if both:
        raise InputError(f"data.features: column {both[0]} is also the target")
    return rows, cols, y_cols, header


def map_npy(path: Path, where: str, one_column: bool = False) -> tuple[Array, mmap.mmap, int]:
    """A numeric .npy mapped read-only: (its rows as a 2-D array over the mapping, the mapping, the
    offset of row 0). A 1-D array is one value per row when ``one_column`` allows it; a file that
    ends before its header's shape does, or holds anything else, is an InputError."""
    if not path.is_file():
        raise InputError(f"{where}: file '{path}' not found")
    try:
        with path.open("rb") as fh:
            version = np.lib.format.read_magic(fh)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(fh)
            offset = fh.tell()
            size = os.fstat(fh.fileno()).st_size
            ndim_ok = len(shape) == 2 or (one_column and len(shape) == 1)
            mapping = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if ndim_ok and shape[0] else None
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: not a readable .npy file ({e})") from None
    if not ndim_ok or fortran or dtype.kind not in "iuf" or mapping is None or 0 in shape:
        raise InputError(f"{path}: expected a {'1-D or ' if one_column else ''}2-D numeric array in C order "
                         f"(rows of features and target), got shape {shape} of {dtype}")
    need = offset + int(np.prod(shape)) * dtype.itemsize
    if size < need:
        mapping.close()
        raise InputError(f"{path}: the file ends early: its header declares {shape} of {dtype} ({need:,} bytes), "
                         f"but it holds {size:,} bytes (was it cut short?)")
    rows = shape if len(shape) == 2 else (shape[0], 1)
    return np.ndarray(rows, dtype=dtype, buffer=mapping, offset=offset), mapping, offset


def _memory_mapped(path: Path, where: str) -> Rows:
    """A 2-D numeric .npy, mapped read-only: rows are read from disk as batches ask for them."""
    array, mapping, offset = map_npy(path, where)
    _refuse_non_finite(path, array, mapping)
    # batches read scattered rows: no read-ahead, which would map neighbouring pages into memory too
    mapping.madvise(mmap.MADV_RANDOM)
    return Rows(array, mapping, source=(path, offset))


def _refuse_non_finite(path: Path, array: Array, mapping: mmap.mmap, chunk_bytes: int = 32 << 20) -> None:
    """Scan a mapped table once, a chunk at a time (pages released after each), for NaN or infinity."""
    if array.dtype.kind != "f":
        return
    rows = max(1, chunk_bytes // max(1, array.strides[0]))
    for start in range(0, len(array), rows):
        bad = ~np.isfinite(array[start:start + rows]).all(axis=1)
        mapping.madvise(mmap.MADV_DONTNEED)
        if bad.any():
            raise InputError(f"{path}: row {start + int(np.argmax(bad))} has NaN or infinity")


def _read_npz(path: Path, x_key: str, y_key: str) -> Rows:
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise InputError(f"{path}: a single .npy array, not an .npz archive (name it .npy to train on it)")
        with loaded as z:
            if x_key not in z.files or y_key not in z.files:
                raise InputError(f"{path}: expected arrays '{x_key}' and '{y_key}' (data.x_key, data.y_key), "
                                 f"found {', '.join(z.files) or 'none'}")
            x, y = z[x_key], z[y_key]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise InputError(f"{path}: not a readable .npz file ({numpy_reason(e)})") from None
    except MemoryError:
        raise InputError(f"{path}: declares arrays larger than fit in memory") from None
    if x.ndim == 1:
        x = x[:, None]
    if y.ndim == 1:
        y = y[:, None]
    text: dict[int, Array] = {}
    if y.dtype.kind in "US" and y.ndim == 2 and y.shape[1] == 1:  # class labels as text
        gap = np.flatnonzero([is_missing(v) for v in y[:, 0].astype(str)])
        if len(gap):
            cell = str(y[gap[0], 0])
            raise InputError(f"{path}: {y_key}[{int(gap[0])}] is a missing value ({cell!r}), not a class label")
        vocabulary, codes = np.unique(y[:, 0].astype(str), return_inverse=True)
        y, text = codes[:, None], {int(x.shape[1]) if x.ndim == 2 else 0: vocabulary}
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y) or x.dtype.kind not in "iuf" or y.dtype.kind not in "iuf":
        raise InputError(f"{path}: expected numeric x (N, n) and y (N,) or (N, k), got x {x.shape} {x.dtype}, "
                         f"y {y.shape} {y.dtype}")
    table = np.concatenate([x.astype(np.float64), y.astype(np.float64)], axis=1)
    bad = ~np.isfinite(table).all(axis=1)
    if bad.any():
        raise InputError(f"{path}: row {int(np.argmax(bad))} has NaN or infinity")
    return Rows(table, y_columns=int(y.shape[1]), text=text)
