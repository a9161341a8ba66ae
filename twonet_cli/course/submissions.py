"""A student's submission read as data, never run: a JSON or YAML mapping (a `grads --json`
document too), an .npz, or a folder of one .csv/.json/.npy per item. Keys are matched loosely
(dW1, dJdW1, dl_dW1, grad_W1, …; ``.T`` or ``_T`` names a transposed matrix); whatever cannot be
read is named, item by item, and the rest is still marked."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..check.marking import GRADIENTS, ITEMS, Answer
from ..errors import TwonetError
from ..formats.arrays import load_array, numbers_array
from ..formats.text import parse_yaml, read_json, read_text

FILE_SUFFIXES = (".json", ".yaml", ".yml", ".npz")
ITEM_SUFFIXES = (".csv", ".json", ".npy")
MAX_BYTES = 10**6  # a submission holds a few numbers: anything larger is refused unread
ALIASES = {
    **{i: i for i in ("z1", "z2", "z3")},
    "yhat": "y_hat", "ypred": "y_hat", "loss": "loss", "l": "loss", "j": "loss", "ell": "loss",
    **{f"{prefix}{p.lower()}": item for item, p in GRADIENTS.items()
       for prefix in ("d", "dl", "dld", "dj", "djd", "dloss", "dlossd", "grad", "gradient")},
    **{f"{p.lower()}grad": item for item, p in GRADIENTS.items()},
}
TRANSPOSED = re.compile(r"(.+?)(?:\.T|_T|\.t|_t|ᵀ)")


@dataclass
class Submission:
    """The items read from one submission, what could not be read (item → why), and keys ignored."""

    answers: dict[str, Answer] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def item_of(key: str) -> tuple[str, bool] | None:
    """(item, named transposed) for a key as a student wrote it, or None for a key that names no item."""
    k = str(key).strip()
    m = TRANSPOSED.fullmatch(k)
    transposed = m is not None
    if m is not None:
        k = m[1]
    norm = re.sub(r"[^a-z0-9]", "", k.replace("ŷ", "yhat").replace("ℓ", "loss").replace("∂", "d").lower())
    item = ALIASES.get(norm)
    return None if item is None else (item, transposed)


def find(folder: Path, student: str) -> list[Path]:
    """The submissions of ``student`` in ``folder``: ID.json/.yaml/.yml/.npz, or a folder ID/."""
    found = [folder / f"{student}{s}" for s in FILE_SUFFIXES if (folder / f"{student}{s}").is_file()]
    return found + ([folder / student] if (folder / student).is_dir() else [])


def owner(path: Path) -> str:
    """The id a file or folder in the submissions folder is named for."""
    return path.name if path.is_dir() else path.stem


def read(path: Path) -> Submission:
    """Every item of the submission at ``path``; a TwonetError when none of it can be read."""
    if path.is_dir():
        return _read_folder(path)
    _check_size(path)
    if path.suffix.lower() == ".npz":
        return _from_mapping(_read_npz(path), path.name)
    raw = read_json(path) if path.suffix.lower() == ".json" else parse_yaml(read_text(path, "submission"), str(path))
    if not isinstance(raw, dict):
        raise TwonetError(f"{path.name}: expected a mapping of item names to numbers")
    return _from_mapping(_flatten(raw), path.name)


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise TwonetError(f"{path.name}: {size:,} bytes is more than the {MAX_BYTES:,} a submission may hold")


def _flatten(raw: dict[str, Any]) -> dict[str, Any]:
    """A `grads --json` document's gradients and per-sample values as items; other mappings as they are."""
    out = {k: v for k, v in raw.items() if k not in ("grads", "samples", "params", "network")}
    if isinstance(raw.get("grads"), dict):
        out.update({f"d{k}": v for k, v in raw["grads"].items()})
    samples = raw.get("samples")
    if isinstance(samples, list) and samples and all(isinstance(s, dict) for s in samples):
        for k in ("z1", "z2", "z3", "y_hat"):
            if all(k in s for s in samples):
                out[k] = [s[k] for s in samples]
    return out


def _read_npz(path: Path) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(path) as z:
            if sum(i.file_size for i in z.infolist()) > 10 * MAX_BYTES:
                raise TwonetError(f"{path.name}: its arrays unpack to more than a submission may hold")
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise TwonetError(f"{path.name}: not a readable .npz file ({type(e).__name__})") from None


def _from_mapping(raw: dict[str, Any], where: str) -> Submission:
    out = Submission()
    seen: dict[str, str] = {}
    for key, value in raw.items():
        found = item_of(key)
        if found is None:
            out.ignored.append(str(key))
            continue
        item, transposed = found
        if item in seen:
            out.problems[item] = f"given twice in {where} (as {seen[item]!r} and {key!r})"
            out.answers.pop(item, None)
            continue
        seen[item] = str(key)
        try:
            array = numbers_array(value.tolist() if isinstance(value, np.ndarray) else value, f"{where}: {key}")
        except TwonetError as e:
            out.problems[item] = str(e)
            continue
        out.answers[item] = Answer(array, transposed)
    return out


def _read_folder(folder: Path) -> Submission:
    out = Submission()
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    seen: dict[str, str] = {}
    for path in files:
        found = item_of(path.stem) if path.suffix.lower() in ITEM_SUFFIXES else None
        if found is None:
            out.ignored.append(path.name)
            continue
        item, transposed = found
        if item in seen:
            out.problems[item] = f"given twice in {folder.name}/ ({seen[item]} and {path.name})"
            out.answers.pop(item, None)
            continue
        seen[item] = path.name
        try:
            _check_size(path)
            out.answers[item] = Answer(load_array(str(path), f"{folder.name}/{path.name}"), transposed)
        except TwonetError as e:
            out.problems[item] = str(e).replace(str(path), f"{folder.name}/{path.name}")
    return out


def items_read(s: Submission) -> int:
    """How many items of ITEMS the submission gave in a readable form."""
    return sum(item in s.answers for item in ITEMS)
