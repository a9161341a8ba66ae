"""Result files: a path checked before any work (its folder exists and is writable, its suffix is
one twonet writes), and tables of results streamed to stdout (CSV) or to a .csv/.npy/.json file
written under a temporary name and renamed when complete — never a half-written file."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any, cast

import numpy as np

from ..core.activations import Array
from ..errors import OutputError, TwonetError, path_kind, printable

TABLE_SUFFIXES = (".csv", ".npy", ".json")


def check_out_file(path: Path, where: str, suffixes: tuple[str, ...]) -> None:
    """Refuse an output path before any work: a known suffix, in a folder that can be written (a
    missing folder is made when the file is written, as `train --out` makes its directory, so its
    nearest existing parent must be a writable folder), a name short enough for its temporary twin
    (NAME plus 14 characters), not a folder."""
    if path.suffix.lower() not in suffixes:
        raise TwonetError(f"{where}: '{path}' must end in {' or '.join(suffixes)}")
    folder = path.parent
    while path_kind(folder, where) == "missing" and folder != folder.parent:
        folder = folder.parent
    if path_kind(folder, where) != "dir":
        raise TwonetError(f"{where}: '{folder}' is not a folder, so '{path}' cannot be written")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise TwonetError(f"{where}: the folder '{folder}' is not writable")
    if len(os.fsencode(path.name)) > 255 - 16:
        raise TwonetError(f"{where}: the file name is longer than {255 - 16} bytes")
    if path_kind(path, where) == "dir":
        raise TwonetError(f"{where}: '{path}' is a directory")


def label_value(v: float | str) -> int | float | str:
    """A number as JSON and CSV show it best: 3, not 3.0 (other floats exactly, by repr); text as it is."""
    if isinstance(v, str):
        return str(v)
    return int(v) if float(v).is_integer() and abs(v) < 2**53 else float(v)


def number_text(v: float) -> str:
    """A number as CSV shows it: exactly (repr), integers without '.0'."""
    return str(label_value(v))  # str of a float is its repr


class TableWriter:
    """Rows of numbers under named columns, with a last column of labels (numbers or text) if the
    rows have one, to stdout as CSV (``path`` None) or to a .csv, .npy (float64, shape (rows,
    columns); numbers only) or .json file ({"columns": [...], "rows": [[...], ...]}). Files
    appear only when complete; a failure or an interrupt leaves nothing behind."""

    def __init__(self, path: Path | None, columns: list[str], where: str = "--out", terminal: bool = False):
        self.path, self.columns, self.where, self.rows = path, columns, where, 0
        self.terminal = terminal  # stdout is a terminal: text from files (names, labels) shown with printable()
        if terminal:
            columns = [printable(c) for c in columns]
        self.kind = "csv" if path is None else path.suffix.lower().lstrip(".")
        self._json: list[list[float | int | str]] = []
        self._tmp: str | None = None
        self._fh: IO[bytes] | IO[str]
        self._header = columns

    def _open(self) -> None:
        """The output opened (a temporary file beside ``path``), and a CSV's header written."""
        if self.path is None:
            self._fh = sys.stdout
        else:
            self._tmp = fresh_name(self.path)  # named before it exists: a stop signal at any instant leaves nothing
            fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
            self._fh = os.fdopen(fd, "wb") if self.kind == "npy" else os.fdopen(fd, "w", encoding="utf-8", newline="")
        if self.kind == "csv":
            self._csv = csv.writer(cast("IO[str]", self._fh), lineterminator="\n")
            self._csv.writerow(self._header)

    def _text(self, s: str) -> None:
        cast("IO[str]", self._fh).write(s)

    def write(self, block: Array, labels: Array | None = None) -> None:
        """Rows (b, columns), or (b, columns − 1) and their ``labels`` (b,) as the last column."""
        self.rows += len(block)
        try:
            match self.kind:
                case "csv":
                    rows: list[list[str]] = [[number_text(v) for v in r] for r in block.tolist()]
                    if labels is not None:
                        for r, label in zip(rows, labels.tolist(), strict=True):
                            r.append(printable(number_text(label)) if self.terminal else number_text(label))
                    self._csv.writerows(rows)
                case "npy":
                    if labels is not None:
                        block = np.concatenate([block, labels.astype(np.float64)[:, None]], axis=1)
                    cast("IO[bytes]", self._fh).write(np.ascontiguousarray(block, dtype="<f8").tobytes())
                case _:
                    self._json.extend(self._json_rows(block, labels))
        except OSError as e:
            if self.path is None:  # stdout: the command line's edge reports it (a closed pipe, a full device)
                raise
            raise OutputError(f"{self.where}: cannot write: {e.strerror or e}") from None

    @staticmethod
    def _json_rows(block: Array, labels: Array | None) -> list[list[float | int | str]]:
        rows: list[list[float | int | str]] = block.tolist()
        if labels is not None:
            for row, value in zip(rows, labels.tolist(), strict=True):
                row.append(label_value(value))
        return rows

    def __enter__(self) -> TableWriter:
        try:
            self._open()
        except OSError as e:
            self.__exit__(type(e), e, None)
            raise OutputError(f"{self.where}: cannot write '{self.path}': {e.strerror or e}") from None
        except BaseException as e:  # an interrupt while opening: no temporary file stays
            self.__exit__(type(e), e, None)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.path is None or self._tmp is None:
            return
        try:
            if kind is None:
                self._finish(self.path, self._tmp)
        except OSError as e:
            raise OutputError(f"{self.where}: cannot write '{self.path}': {e.strerror or e}") from None
        finally:
            with contextlib.suppress(OSError, AttributeError):  # AttributeError: stopped before it was opened
                self._fh.close()
            for tmp in (self._tmp, self._tmp + ".npy"):
                Path(tmp).unlink(missing_ok=True)

    def _finish(self, path: Path, tmp: str) -> None:
        if self.kind == "json":
            doc: dict[str, Any] = {"columns": self.columns, "rows": self._json}
            self._text(json.dumps(doc, allow_nan=False) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        if self.kind == "npy":  # the header needs the row count: written first, then the rows copied after it
            with open(tmp + ".npy", "wb") as out, open(tmp, "rb") as raw:
                np.lib.format.write_array_header_1_0(out, {"descr": "<f8", "fortran_order": False,
                                                           "shape": (self.rows, len(self.columns))})
                shutil.copyfileobj(raw, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp + ".npy", tmp)
        publish(tmp, path)


def temporary(path: Path) -> tuple[int, str]:
    """A new file beside ``path`` to write it under (``.NAME.`` + 8 random characters + ``.tmp``),
    its folder made if missing: its descriptor and name. Publish it with ``publish``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)


def fresh_name(path: Path) -> str:
    """A name beside ``path`` that no file has (``.NAME.`` + 8 random characters + ``.tmp``, as
    ``temporary``'s), its folder made if missing: the caller creates it with O_EXCL, so that whoever
    cleans up knows the name from before the file exists."""
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        name = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp")
        if not os.path.lexists(name):
            return name


def publish(tmp: str, path: Path) -> None:
    """A complete temporary file becomes ``path`` in one rename, with the permissions the umask
    gives any new file (mkstemp's 0600 would make results private to their owner)."""
    os.chmod(tmp, 0o666 & ~umask())
    os.replace(tmp, path)


def write_synced(fh: IO[bytes], data: bytes) -> None:
    """Write ``data`` to an open file and flush it to disk."""
    fh.write(data)
    fh.flush()
    os.fsync(fh.fileno())


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers only ever see the old or the new content."""
    fd, tmp = temporary(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            write_synced(fh, data)
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sync_dir(path: Path) -> None:
    """Flush a directory's entries (new names, renames) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def umask() -> int:
    """The process's file-creation mask (read by setting it, then put back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_folder(out: Path, files: dict[str, bytes], where: str, force: bool, kind: str) -> None:
    """A folder of result files written whole, then renamed into place: a reader sees the earlier
    folder or the complete new one, never a mix. An existing folder is replaced only with ``force``,
    only when it is one of ours (its ``manifest.json`` says ``kind``), and only when it holds nothing
    its manifest does not list (a note put beside the results is never deleted); an empty one is
    taken. The manifest (``manifest.json`` in ``files``) gets the list of every file, written last."""
    bad = next((name for name in files if Path(name).is_absolute() or ".." in Path(name).parts), None)
    if bad is not None:
        raise TwonetError(f"{where}: refusing to write '{printable(bad)}' outside the folder")
    state = path_kind(out, where)
    if state not in ("missing", "dir"):
        raise TwonetError(f"{where}: '{printable(str(out))}' exists and is not a folder")
    if state == "dir" and any(out.iterdir()):
        if not _is_kind(out, kind):
            raise TwonetError(f"{where}: '{printable(str(out))}' holds files that are not a {kind} folder; "
                              "choose a new folder")
        if not force:
            raise TwonetError(f"{where}: '{printable(str(out))}' holds an earlier {kind} folder; "
                              "pass --force to replace it")
        listed = set(read_manifest(out).get("files", [])) | {"manifest.json"}
        extra = sorted(str(p.relative_to(out)) for p in out.rglob("*") if not p.is_dir()
                       and str(p.relative_to(out)) not in listed)
        if extra:
            raise TwonetError(f"{where}: '{printable(str(out))}' holds files that are not the {kind}'s "
                              f"({printable(', '.join(extra[:4]))}{', …' if len(extra) > 4 else ''}): move them out "
                              "before --force replaces it")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as e:
        raise OutputError(f"{where}: cannot write '{printable(str(out))}': {e.strerror or e}") from None
    aside = tmp.with_suffix(".old")
    try:
        for name, data in files.items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as fh:
                write_synced(fh, data)
            os.chmod(path, 0o666 & ~umask())
        for folder in sorted({p.parent for p in tmp.rglob("*")} | {tmp}):
            os.chmod(folder, 0o777 & ~umask())
        if state == "dir":
            os.replace(out, aside)
        os.replace(tmp, out)
        sync_dir(out.parent)
    except OSError as e:
        raise OutputError(f"{where}: cannot write '{printable(str(out))}': {e.strerror or e}") from None
    finally:
        if aside.exists() and not out.exists():
            os.replace(aside, out)  # stopped between the two renames: the earlier folder back in place
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(aside, ignore_errors=True)


def read_manifest(folder: Path) -> dict[str, Any]:
    """A folder's manifest.json, or {} where there is none (or it is not a mapping)."""
    try:
        doc = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _is_kind(folder: Path, kind: str) -> bool:
    return read_manifest(folder).get("kind") == kind
