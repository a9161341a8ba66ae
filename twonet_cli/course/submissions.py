"""A student's submission read as data, never run: a JSON or YAML mapping (a `grads --json`
document too), an .npz, or a folder of one .csv/.json/.npy per item (or holding the one file).
Keys are matched loosely (dW1, dJdW1, dl_dW1, grad_W1, …; ``.T`` or ``_T`` names a transposed
matrix); text in UTF-8 (with or without a byte-order mark) or UTF-16, as Windows tools write it;
numbers written as strings ("0.5") and CSV cells split by commas, spaces or semicolons (with a
decimal comma) are read.
A link is refused (it could point anywhere, the keys included). Whatever cannot be read is named,
item by item, and the rest is still marked."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..check.marking import GRADIENTS, Answer
from ..core.activations import Array
from ..errors import ConfigError, TwonetError
from ..formats.arrays import load_array, numbers_array
from ..formats.text import check_depth, parse_yaml

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


@dataclass
class Folder:
    """A submissions folder listed once: each id's submissions (any case of suffix), and the other
    entries (a .zip, a .txt: forms that are not read) by the id they are named for."""

    submissions: dict[str, list[Path]] = field(default_factory=dict)
    others: dict[str, list[Path]] = field(default_factory=dict)

    @classmethod
    def scan(cls, folder: Path) -> Folder:
        """Every entry of ``folder``, sorted into submissions and other files by the id they name."""
        out = cls()
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith("."):
                continue
            if entry.is_dir() and not entry.is_symlink():
                out.submissions.setdefault(entry.name, []).append(entry)
            elif entry.suffix.lower() in FILE_SUFFIXES:
                out.submissions.setdefault(entry.stem, []).append(entry)
            else:
                out.others.setdefault(entry.stem, []).append(entry)
        return out


def read(path: Path) -> Submission:
    """Every item of the submission at ``path``; a TwonetError when none of it can be read."""
    if path.is_symlink():
        raise TwonetError(f"{path.name} is a link: hand in the file itself")
    if path.is_dir():
        return _read_folder(path)
    if not path.is_file():
        raise TwonetError(f"{path.name} is not a regular file")
    _check_size(path)
    if path.suffix.lower() == ".npz":
        return _from_mapping(_read_npz(path), path.name)
    raw = _parse(path)
    if not isinstance(raw, dict):
        raise TwonetError(f"{path.name}: expected a mapping of item names to numbers")
    return _from_mapping(document_items(raw), path.name)


def text_of(path: Path) -> str:
    """A small text file as students' tools write it: UTF-8 (a byte-order mark or none) or UTF-16."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise TwonetError(f"{path.name}: cannot read: {e.strerror or e}") from None
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16")
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TwonetError(f"{path.name}: not UTF-8 or UTF-16 text (save it as UTF-8)") from None


def _parse(path: Path) -> Any:
    """A JSON or YAML file's value, nested at most as deep as any file twonet reads."""
    text = text_of(path)
    try:
        if path.suffix.lower() == ".json":
            return check_depth(json.loads(text), path.name)
        return parse_yaml(text, path.name)
    except json.JSONDecodeError as e:
        raise TwonetError(f"{path.name}: invalid JSON: {e}") from None
    except RecursionError:
        raise TwonetError(f"{path.name}: nested too deep") from None
    except ConfigError as e:
        raise TwonetError(str(e)) from None


def _check_size(path: Path) -> None:
    if path.is_symlink():
        raise TwonetError(f"{path.name} is a link: hand in the file itself")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise TwonetError(f"{path.name}: {size:,} bytes is more than the {MAX_BYTES:,} a submission may hold")


def _numbers(value: Any) -> Any:
    """Numbers as students write them: strings that read as numbers ("0.5", " -2 ") become numbers."""
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise TwonetError(f"the text {value[:20]!r} where a number belongs") from None
    return value


def _csv_numbers(path: Path) -> Any:
    """A CSV of numbers, one row per line: cells split by commas, tabs or spaces; or, where a line
    holds a semicolon, by semicolons, with a comma as the decimal point (0,5;1,25), as spreadsheets
    in German or French save them."""
    text = text_of(path)
    if ";" in text:
        text = text.replace(",", ".").replace(";", ",")
    rows = [[c for c in re.split(r"[,\s]+", line.strip()) if c] for line in text.splitlines()]
    rows = [r for r in rows if r]
    if not rows:
        raise TwonetError(f"{path}: no numbers")
    if len({len(r) for r in rows}) > 1:
        raise TwonetError(f"{path}: its rows have different lengths")
    try:
        values = _numbers(rows)
    except TwonetError as e:
        raise TwonetError(f"{path}: {e}") from None
    return values[0] if len(values) == 1 else values


def document_items(raw: dict[str, Any]) -> dict[str, Any]:
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
    def load(key: str, value: Any) -> Array:
        try:
            plain = value.tolist() if isinstance(value, np.ndarray) else value
            return numbers_array(_numbers(plain), f"{where}: {key}")
        except TwonetError as e:
            raise TwonetError(str(e) if str(e).startswith(where) else f"{where}: {key}: {e}") from None

    return _collect([(str(key), str(key), partial(load, str(key), value)) for key, value in raw.items()], where)


def _read_folder(folder: Path) -> Submission:
    try:
        files = sorted(p for p in folder.iterdir() if not p.name.startswith(".") and p.is_file())
    except OSError as e:
        raise TwonetError(f"{folder.name}/ cannot be read: {e.strerror or e}") from None
    whole = [p for p in files if p.suffix.lower() in FILE_SUFFIXES and item_of(p.stem) is None]
    if len(whole) == 1 and not any(item_of(p.stem) for p in files):  # a folder holding the one file (as LMSs download)
        sub = read(whole[0])
        sub.ignored += [p.name for p in files if p != whole[0]]
        return sub

    def load(path: Path) -> Array:
        shown = f"{folder.name}/{path.name}"
        try:
            _check_size(path)
            return (numbers_array(_csv_numbers(path), shown) if path.suffix.lower() == ".csv" else
                    load_array(str(path), shown))
        except TwonetError as e:
            raise TwonetError(str(e).replace(str(path), shown)) from None

    entries = [(p.stem if p.suffix.lower() in ITEM_SUFFIXES else "", p.name, partial(load, p)) for p in files]
    return _collect(entries, f"{folder.name}/")


def _collect(entries: Sequence[tuple[str, str, Callable[[], Array]]], where: str) -> Submission:
    """The items among (key, name shown, how to read it): an item given twice, or unreadable, is named
    as a problem; a key that names no item is ignored (and said so)."""
    out = Submission()
    seen: dict[str, str] = {}
    for key, name, load in entries:
        found = item_of(key) if key else None
        if found is None:
            out.ignored.append(name)
            continue
        item, transposed = found
        if item in seen:
            out.problems[item] = f"given twice in {where} ({seen[item]!r} and {name!r})"
            out.answers.pop(item, None)
            continue
        seen[item] = name
        try:
            out.answers[item] = Answer(load(), transposed)
        except TwonetError as e:
            out.problems[item] = str(e)
    return out
