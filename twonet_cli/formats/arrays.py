"""Arrays from the command line and small files: inline values and .csv/.npy/.json files → checked
float64 arrays; parameters W1, b1, W2, b2 from .npz/.json/.yaml files, checked by one shape rule.

Inline values are ``0.5,-1.2`` (one sample) or ``0.5,-1.2;1,0`` (rows separated by ``;``).
Files are ``.csv`` (read by table.py, the one CSV reader), ``.npy``, ``.json``; parameters also ``.npz`` and ``.yaml``.
Datasets and streams (data/) read their files with the same readers. Every failure is an ``InputError``
whose one-line message names the option or file.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..core.activations import Array
from ..core.model import PARAM_NAMES, Params, shape_mismatch
from ..errors import ConfigError, InputError, ShapeError, path_kind
from .table import is_number, read_csv
from .text import read_json, read_yaml

ARRAY_SUFFIXES = (".csv", ".npy", ".json")
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


def numpy_reason(e: Exception) -> str:
    """Why numpy could not read a file, in one line; a file that is not numpy's at all (numpy then
    suggests allow_pickle, which twonet never sets: nothing in a file is executed) says so."""
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    if "Object arrays" in text:
        return "it holds Python objects (an object array), which twonet never loads: save numbers or strings"
    return "not a NumPy file" if "pickle" in text else text


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
        looks_like_a_file = "/" in spec or re.search(r"\.[A-Za-z]\w*$", spec.strip()) is not None
        if looks_like_a_file or (len(spec) < 256 and path_kind(path, where) != "missing"):
            raise InputError(f"{where}: '{spec}' is not a .csv, .npy or .json file (nor inline numbers like "
                             "0.5,-1.2;1,0)")
        return parse_inline(spec, where)
    kind = path_kind(path, where)
    if kind != "file":
        raise InputError(f"{where}: '{spec}' is a directory, not a file" if kind == "dir" else
                         f"{where}: file '{spec}' not found")
    try:
        match path.suffix.lower():
            case ".csv":
                header, table = read_csv(path)
                table.require_numbers(list(range(table.values.shape[1])), header, str(path))
                a = table.values
            case ".npy":
                a = _numeric(np.load(path, allow_pickle=False), str(path))
            case _:
                a = numbers_array(read_json(path), str(path))
    except (OSError, ValueError, EOFError) as e:  # unreadable, a bad or truncated .npy, pickled objects
        raise InputError(f"{path}: cannot read: {numpy_reason(e)}") from None
    except MemoryError:
        raise InputError(f"{path}: declares more values than fit in memory") from None
    if a.size == 0:
        raise InputError(f"{path}: no values")
    return a


def load_labels(spec: str, where: str) -> Array:
    """Class labels as given: numbers (``load_array``), or text — inline ``dog;cat``, a .json list of
    strings, a .npy of strings. Never executes anything (no pickles)."""
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix == ".json" and path_kind(path, where) == "file":
        raw = read_json(path)
        flat = raw if isinstance(raw, list) else [raw]
        if flat and all(isinstance(v, str) or (isinstance(v, list) and len(v) == 1 and isinstance(v[0], str))
                        for v in flat):
            return np.array([v if isinstance(v, str) else v[0] for v in flat])
    elif suffix == ".npy" and path_kind(path, where) == "file":
        try:
            a = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as e:
            raise InputError(f"{path}: cannot read: {numpy_reason(e)}") from None
        if a.dtype.kind in "US" and a.size and a.ndim <= 2 and (a.ndim < 2 or a.shape[1] == 1):
            text: Array = a.reshape(-1).astype(str)
            return text
    elif suffix not in ARRAY_SUFFIXES and not re.search(r"\.[A-Za-z]\w*$", spec.strip()) and "/" not in spec:
        tokens = [t.strip() for t in re.split(r"[;,]", spec.strip().strip(";"))]
        if tokens and all(tokens) and not all(is_number(t) for t in tokens):
            return np.array(tokens)
    return load_array(spec, where)


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
                raise InputError(f"{path}: not a readable .npz file ({numpy_reason(e)})") from None
            except MemoryError:
                raise InputError(f"{path}: declares arrays larger than fit in memory") from None
        case ".json":
            return read_json(path)
    try:
        return read_yaml(path, "params")
    except ConfigError as e:
        raise InputError(str(e)) from None
