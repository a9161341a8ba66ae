"""The one CSV reader: every command reads a CSV file through it, whole or a chunk at a time.

One rule for the header: the first row is a header when none of its cells is a number and none is
missing (empty, ``NA``, …); a header must name each column once. Every other row is data: a cell
that is missing is refused, naming its row; a column whose cells are not all numbers is a column
of text (class labels such as ``setosa`` or ``cat``), held as codes into its sorted distinct
values. Whoever knows which columns are features refuses text there (``Table.refuse_text``).
"""

from __future__ import annotations

import csv
import itertools
import warnings
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.activations import Array
from ..errors import InputError

MAX_CSV_BYTES = 256 * 10**6  # a CSV read whole into memory (≈20 bytes per byte of text)
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-", "#n/a"})  # cells that hold no value


def is_number(s: str) -> bool:
    """True for text that float() reads as a number (a CSV cell)."""
    try:
        float(s)
        return True
    except ValueError:
        return False


def is_missing(s: str) -> bool:
    """True for a cell that holds no value: empty, or a marker such as NA, N/A, null or ?."""
    return s.strip().lower() in MISSING


@dataclass
class Table:
    """Rows of a table as float64 (rows, width); a column of text holds codes 0, 1, … into its
    vocabulary (its distinct values, sorted)."""

    values: Array
    text: dict[int, Array] = field(default_factory=dict)  # column → vocabulary (numpy str array)
    first: int = 1  # the number of its first row in the file (for messages)
    missing: dict[int, tuple[int, str]] = field(default_factory=dict)  # column → (its first missing row, the cell)

    def refuse_missing(self, cols: list[int], header: list[str] | None, where: str) -> None:
        """An InputError naming the first missing cell of ``cols`` (the columns read); others may have them."""
        hit = [(row, c, cell) for c in cols if c in self.missing for row, cell in [self.missing[c]]]
        if hit:
            row, c, cell = min(hit)
            name = f"column {header[c]!r}" if header else f"column {c + 1}"
            raise InputError(f"{where}: data row {self.first + row} has a missing value ({cell!r}) in {name}")

    def require_numbers(self, cols: list[int], header: list[str] | None, where: str) -> None:
        """``refuse_missing`` and ``refuse_text`` together: the columns a network reads as numbers."""
        self.refuse_missing(cols, header, where)
        self.refuse_text(cols, header, where)

    def column(self, col: int, rows: Array | None = None) -> Array:
        """Column ``col`` (of ``rows``, default all) as written: numbers, or text for a column of text."""
        v = self.values[:, col] if rows is None else self.values[rows, col]
        return self.text[col][v.astype(np.int64)] if col in self.text else v

    def refuse_text(self, cols: list[int], header: list[str] | None, where: str) -> None:
        """An InputError if any of ``cols`` (features, or a regression's targets) holds text."""
        for c in cols:
            if c in self.text:
                words = self.text[c]
                bad = [k for k, w in enumerate(words) if not is_number(w)]
                row = int(np.argmax(np.isin(self.values[:, c], bad)))
                name = f"column {header[c]!r}" if header else f"column {c + 1}"
                raise InputError(f"{where}: data row {self.first + row}: '{words[bad[0]]}' is not a number "
                                 f"({name} holds text, which only a target of class labels may)")


def header_of(first: list[str], where: str) -> list[str] | None:
    """The header, if the first row is one (no cell a number, none missing), else None; a header
    that leaves a column unnamed or names one twice is an InputError."""
    if any(is_number(c) or is_missing(c) for c in first):
        return None
    names = [c.strip() for c in first]
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise InputError(f"{where}: the header names column {name!r} twice (columns {names.index(name) + 1} "
                             f"and {i + 1}); each column needs a name of its own")
        seen.add(name)
    return names


def parse_rows(rows: list[list[str]], width: int, first: int, where: str) -> Table:
    """Data rows (cells as text) as a Table; ``first`` is the number of the first of them (for messages).
    Ragged rows, missing cells, NaN and infinity are one-line InputErrors naming the row."""
    for i, r in enumerate(rows):
        if len(r) != width:
            raise InputError(f"{where}: data row {first + i} has {len(r)} values, row 1 has {width}")
    try:
        values = np.array(rows, dtype=np.float64).reshape(len(rows), width)
        text: dict[int, Array] = {}
        missing: dict[int, tuple[int, str]] = {}
    except ValueError:  # a cell that is not a number: a missing value, or a column of text
        values, text, missing = _columns(rows, width)
    finite = np.isfinite(values)
    for c, _ in missing.items():  # a missing cell is NaN until a command reads its column (and refuses it)
        finite[:, c] |= np.array([is_missing(r[c]) for r in rows])
    bad = ~finite.all(axis=1)
    if bad.any():
        raise InputError(f"{where}: data row {first + int(np.argmax(bad))} has NaN or infinity")
    return Table(values, text, first, missing)


def _columns(rows: list[list[str]], width: int) -> tuple[Array, dict[int, Array], dict[int, tuple[int, str]]]:
    """Column by column: numbers, or text held as codes into the column's sorted distinct values;
    a missing cell (empty, NA, …) is NaN, and each column's first one is noted."""
    values = np.empty((len(rows), width))
    text: dict[int, Array] = {}
    missing: dict[int, tuple[int, str]] = {}
    for c in range(width):
        cells = [r[c] for r in rows]
        try:
            values[:, c] = np.array(cells, dtype=np.float64)
            continue
        except ValueError:
            pass
        gaps = [i for i, cell in enumerate(cells) if is_missing(cell)]
        if gaps:
            missing[c] = (gaps[0], cells[gaps[0]].strip())
        present = [i for i, cell in enumerate(cells) if not is_missing(cell)]
        words = [cells[i].strip() for i in present]
        column = np.full(len(cells), np.nan)
        if all(is_number(w) for w in words):
            column[present] = np.array(words, dtype=np.float64)
        else:  # text: a number among it is its own text (1 and 1.0 are one label, as in a column of numbers)
            words = [_label_text(w) for w in words]
            vocabulary, codes = np.unique(np.array(words), return_inverse=True)
            column[present] = codes
            text[c] = vocabulary
        values[:, c] = column
    return values, text, missing


def _label_text(word: str) -> str:
    """A cell of a text column as its label: numbers written one way (1.0 → 1, 2.50 → 2.5), text as it is."""
    if not is_number(word):
        return word
    v = float(word)
    return str(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)


def _reader(path: Path) -> Generator[list[str], None, None]:
    """The non-blank rows of a CSV file, the file closed when they end or are abandoned."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:  # -sig: a byte-order mark is not data
            yield from (r for r in csv.reader(fh) if any(c.strip() for c in r))
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    except (csv.Error, UnicodeDecodeError) as e:  # a field beyond the csv module's limit (128 KB), a NUL byte
        raise InputError(f"{path}: not a readable CSV file ({e})") from None


def first_row(path: Path) -> list[str]:
    """The first non-blank row of a CSV file (an InputError if it has none)."""
    reader = _reader(path)
    first = next(reader, None)
    reader.close()
    if first is None:
        raise InputError(f"{path}: no data rows")
    return first


def read_csv(path: Path) -> tuple[list[str] | None, Table]:
    """(header or None, the data rows) of a CSV file, read whole: at most MAX_CSV_BYTES."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    if size > MAX_CSV_BYTES:
        raise InputError(f"{path}: {size / 1e6:,.0f} MB of CSV is more than the {MAX_CSV_BYTES // 10**6} MB read into "
                         "memory; save it as .npy, which is memory-mapped (numpy.save)")
    header = header_of(first_row(path), str(path))
    fast = _loadtxt(path, header is not None)
    if fast is not None:
        return header, Table(fast)
    (table,) = read_chunks(path, header is not None, None)  # without a chunk size: one table of every row
    return header, table


def read_chunks(path: Path, skip_header: bool, chunk_rows: int | None) -> Iterator[Table]:
    """The data rows of a CSV file as Tables of ``chunk_rows`` rows (all in one without), each
    parsed by ``parse_rows``: a chunk's text columns have the chunk's own vocabulary."""
    reader = _reader(path)
    try:
        first = next(reader, None)
        if first is None:
            raise InputError(f"{path}: no data rows")
        width, number = len(first), 1
        rows = reader if skip_header else itertools.chain([first], reader)
        seen = 0
        while block := list(itertools.islice(rows, chunk_rows)):
            yield parse_rows(block, width, number, str(path))
            number += len(block)
            seen += len(block)
        if not seen:
            raise InputError(f"{path}: no data rows")
    finally:
        reader.close()


def _loadtxt(path: Path, skip_header: bool) -> Array | None:
    """A well-formed numeric CSV by numpy's own parser (4× faster than reading cells in Python);
    None for any file it refuses, which ``read_chunks`` then reads, or names the row at fault."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            first = next(csv.reader(fh), None)
            if first is None or not any(c.strip() for c in first):  # empty, or a blank first line
                return None
            if not skip_header:
                fh.seek(0)  # the first row is data
            with warnings.catch_warnings():  # "input contained no data": the careful reader says so
                warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
                table = np.loadtxt(fh, delimiter=",", comments=None, quotechar='"', dtype=np.float64, ndmin=2)
    except (ValueError, OSError, csv.Error):  # UnicodeDecodeError is a ValueError
        return None
    if not len(table) or not np.isfinite(table).all() or table.shape[1] != len(first):
        return None
    return table


def read_text_table(path: Path, where: str, max_rows: int = 100_000) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a CSV whose cells are kept as text (a roster of ids: ``007`` stays ``007``).
    The first row must be a header; ragged rows are refused, naming the row."""
    if path.is_dir():
        raise InputError(f"{where}: '{path}' is a directory, not a CSV file")
    reader = _reader(path)
    try:
        first = next(reader, None)
    except InputError as e:
        raise InputError(f"{e} (save it as CSV UTF-8)" if "codec" in str(e) else str(e)) from None
    if first is None:
        raise InputError(f"{where}: {path} is empty")
    header = [c.strip() for c in first]
    twice = next((h for i, h in enumerate(header) if h in header[:i]), None)
    if twice is not None:
        raise InputError(f"{where}: {path}'s header names the column {twice!r} twice")
    rows = []
    for i, row in enumerate(reader, start=2):
        if len(row) != len(header):
            raise InputError(f"{where}: {path} row {i} has {len(row)} cells, the header {len(header)}")
        rows.append([c.strip() for c in row])
        if len(rows) > max_rows:
            raise InputError(f"{where}: {path} has more than {max_rows:,} rows")
    return header, rows
