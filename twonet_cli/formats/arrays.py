"""Every input as arrays: inline values and .csv/.npy/.json/.npz/.yaml files → checked float64
arrays; x as (B, n); targets as (B, K) by one converter; parameters checked by one shape rule.

Inline values are ``0.5,-1.2`` (one sample) or ``0.5,-1.2;1,0`` (rows separated by ``;``).
Files are ``.csv`` (optional header), ``.npy``, ``.json``; parameters also ``.npz`` and ``.yaml``.
Datasets (data/) read their files with the same readers. Every failure is an ``InputError``
whose one-line message names the option or file.
"""

from __future__ import annotations

import csv
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..core.activations import Array
from ..core.model import PARAM_NAMES, Params, shape_mismatch
from ..errors import ConfigError, InputError, ShapeError, path_kind
from .text import read_json, read_yaml

ARRAY_SUFFIXES = (".csv", ".npy", ".json")
MAX_CSV_BYTES = 256 * 10**6
PARAM_SUFFIXES = (".npz", ".json", ".yaml", ".yml")


def _float(token: str, where: str) -> float:
    try:
        return float(token)
    except ValueError:
        raise InputError(f"{where}: '{token.strip()}' is not a number") from None


def _finite(a: Array, where: str) -> Array:
    if not np.isfinite(a).all():
        raise InputError(f"{where}: contains NaN or infinity")
    return a


def parse_inline(text: str, where: str) -> Array:
    """``1,2;3,4`` → [[1, 2], [3, 4]]; ``1,2`` → [1, 2]; ragged rows are an error."""
    rows = [r for r in text.strip().strip(";").split(";")]
    if not text.strip() or any(not r.strip() for r in rows):
        raise InputError(f"{where}: expected numbers like 0.5,-1.2 (rows separated by ;), got '{text}'")
    values = []
    for r in rows:
        tokens = re.split(r"\s*,\s*|\s+", r.strip())  # commas, or spaces: `1,2` or `1 2`
        if any(not t for t in tokens):
            raise InputError(f"{where}: an empty field in '{r.strip()}': every value must be a number")
        values.append([_float(t, where) for t in tokens])
    if len({len(v) for v in values}) > 1:
        raise InputError(f"{where}: rows have different lengths {[len(v) for v in values]}")
    a = np.asarray(values if len(values) > 1 else values[0], dtype=np.float64)
    return _finite(a, where)


def read_csv(path: Path) -> tuple[list[str] | None, Array]:
    """(header or None, rows as a finite float64 table) of a CSV file; a first row that is not all
    numbers is the header. Ragged rows, non-numbers, NaN and infinity are one-line errors.
    A CSV is read whole into memory (≈20 bytes per byte of text), so it may be at most MAX_CSV_BYTES."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    if size > MAX_CSV_BYTES:
        raise InputError(f"{path}: {size / 1e6:,.0f} MB of CSV is more than the {MAX_CSV_BYTES // 10**6} MB read into "
                         "memory; save it as .npy, which is memory-mapped (numpy.save)")
    fast = _loadtxt(path)
    if fast is not None:
        return fast
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:  # -sig: a byte-order mark is not data
            rows = [r for r in csv.reader(fh) if any(c.strip() for c in r)]
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text CSV file") from None
    except csv.Error as e:  # a field beyond the csv module's limit (128 KB), a NUL byte
        raise InputError(f"{path}: not a readable CSV file ({e})") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    header = None
    if rows and not all(is_number(c) for c in rows[0]):
        header, rows = [c.strip() for c in rows[0]], rows[1:]
    if not rows:
        raise InputError(f"{path}: no data rows")
    width = len(rows[0])
    values = []
    for i, r in enumerate(rows, start=1):
        if len(r) != width:
            raise InputError(f"{path}: data row {i} has {len(r)} values, row 1 has {width}")
        values.append([_float(c, f"{path}: data row {i}") for c in r])
    table = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(table).all(axis=1)
    if bad.any():
        raise InputError(f"{path}: data row {int(np.argmax(bad)) + 1} has NaN or infinity")
    return header, table


def _loadtxt(path: Path) -> tuple[list[str] | None, Array] | None:
    """``read_csv`` of a well-formed file by numpy's own parser (4× faster than reading cells in
    Python), the header found by the same rule; None for any file it refuses, which the careful
    reader then reads, or names the row at fault."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            first = next(csv.reader(fh), None)
            if first is None or not any(c.strip() for c in first):  # empty, or a blank first line
                return None
            header = None if all(is_number(c) for c in first) else [c.strip() for c in first]
            if header is None:
                fh.seek(0)  # the first row is data
            with warnings.catch_warnings():  # "input contained no data": the careful reader says so
                warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
                table = np.loadtxt(fh, delimiter=",", comments=None, quotechar='"', dtype=np.float64, ndmin=2)
    except (ValueError, OSError, csv.Error):  # UnicodeDecodeError is a ValueError
        return None
    if not len(table) or not np.isfinite(table).all() or table.shape[1] != len(first):
        return None
    return header, table


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def is_number(s: str) -> bool:
    """True for text that float() reads as a number (a CSV cell)."""
    try:
        float(s)
        return True
    except ValueError:
        return False


def _numeric(a: Any, where: str) -> Array:
    """A float64 copy of a loaded array, refusing objects, strings and booleans."""
    a = np.asarray(a)
    if a.dtype.kind not in "iuf":
        raise InputError(f"{where}: expected numbers, got an array of dtype {a.dtype}")
    return _finite(a.astype(np.float64), where)


def is_numbers(value: Any) -> bool:
    """True for a number, or (nested) lists of numbers — booleans and strings are not numbers."""
    if isinstance(value, list):
        return all(is_numbers(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def numbers_array(value: Any, where: str) -> Array:
    """A finite float64 array from a number or (nested) lists of numbers, e.g. parsed JSON or YAML."""
    if not is_numbers(value) or value == []:
        raise InputError(f"{where}: expected a number or a (nested) list of numbers")
    try:
        return _finite(np.asarray(value, dtype=np.float64), where)
    except OverflowError:
        raise InputError(f"{where}: a number is too large for float64") from None
    except ValueError:
        raise InputError(f"{where}: rows have different lengths") from None


def load_array(spec: str, where: str) -> Array:
    """An array from an inline spec or a .csv/.npy/.json file."""
    path = Path(spec)
    if path.suffix.lower() not in ARRAY_SUFFIXES:
        if "/" in spec or (len(spec) < 256 and path_kind(path, where) != "missing"):
            raise InputError(f"{where}: '{spec}' is not a .csv, .npy or .json file")
        return parse_inline(spec, where)
    kind = path_kind(path, where)
    if kind != "file":
        raise InputError(f"{where}: '{spec}' is a directory, not a file" if kind == "dir" else
                         f"{where}: file '{spec}' not found")
    try:
        match path.suffix.lower():
            case ".csv":
                a = read_csv(path)[1]
            case ".npy":
                a = _numeric(np.load(path, allow_pickle=False), str(path))
            case _:
                a = numbers_array(read_json(path), str(path))
    except (OSError, ValueError, EOFError) as e:  # unreadable, a bad or truncated .npy, pickled objects
        raise InputError(f"{path}: cannot read: {_first_line(e)}") from None
    except MemoryError:
        raise InputError(f"{path}: declares more values than fit in memory") from None
    if a.size == 0:
        raise InputError(f"{path}: no values")
    return a


def load_param_arrays(spec: str, where: str, document_key: str | None = None) -> dict[str, Array]:
    """Exactly W1, b1, W2, b2 as finite float64 arrays from a .npz, .json or .yaml file, any shapes.

    With ``document_key`` ("grads" or "params"), a `twonet grads --json` document is read too: its
    mapping under that key is taken."""
    path = Path(spec)
    if path.suffix.lower() not in PARAM_SUFFIXES:
        raise InputError(f"{where}: '{spec}' is not a .npz, .json or .yaml file")
    kind = path_kind(path, where)
    if kind != "file":
        raise InputError(f"{where}: '{spec}' is a directory, not a file" if kind == "dir" else
                         f"{where}: file '{spec}' not found")
    raw = _read_param_file(path)
    if document_key and isinstance(raw, dict) and "network" in raw and isinstance(raw.get(document_key), dict):
        raw = raw[document_key]  # the output of `twonet grads --json`
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected a mapping with keys {', '.join(PARAM_NAMES)}")
    extra = sorted(map(str, set(raw) - set(PARAM_NAMES)))
    missing = [k for k in PARAM_NAMES if k not in raw]
    if extra or missing:
        what = f"unexpected key(s) {', '.join(extra)}" if extra else f"missing {', '.join(missing)}"
        raise InputError(f"{path}: {what} (expected exactly {', '.join(PARAM_NAMES)})")
    out = {}
    for key in PARAM_NAMES:
        value, at = raw[key], f"{path}: {key}"
        out[key] = _numeric(value, at) if isinstance(value, np.ndarray) else numbers_array(value, at)
    return out


def load_params(spec: str, shape: tuple[int, int, int], where: str = "--params") -> Params:
    """W1, b1, W2, b2 from a .npz, .json or .yaml file, checked against (n, m, K)."""
    arrays = load_param_arrays(spec, where, document_key="params")
    n, m, K = shape
    wrong = shape_mismatch(arrays, n, m, K)
    if wrong is not None:
        key, got, want = wrong
        raise ShapeError(f"{spec}: {key} has shape {got}, but the network {n} → {m} → {K} needs {want}")
    return Params(**arrays)


def _read_param_file(path: Path) -> Any:
    match path.suffix.lower():
        case ".npz":
            try:
                loaded = np.load(path, allow_pickle=False)
                if not isinstance(loaded, np.lib.npyio.NpzFile):
                    raise InputError(f"{path}: a single .npy array, not an .npz archive of W1, b1, W2, b2")
                with loaded as z:
                    return {k: z[k] for k in z.files}
            except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
                raise InputError(f"{path}: not a readable .npz file ({_first_line(e)})") from None
            except MemoryError:
                raise InputError(f"{path}: declares arrays larger than fit in memory") from None
        case ".json":
            return read_json(path)
    try:
        return read_yaml(path, "params")
    except ConfigError as e:
        raise InputError(str(e)) from None
