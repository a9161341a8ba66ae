"""`twonet assign`: a variant of the exercise per student on a roster — a sheet (their numbers and
the questions), a key (`grads --json` of their numbers, and the worked solution) and one manifest.
The same roster, config and secret give the same bytes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config.schema import Config
from ..errors import InputError
from ..formats.table import read_text_table
from ..formats.write import read_manifest
from ..ui.jsondoc import dumps, grads_json, network_json
from ..ui.key import Format, answer_key, sheet
from .variant import Values, Variant, fingerprint, variant

KIND = "twonet assignment"  # what manifest.json says the folder is
ID_COLUMNS = ("id", "student_id", "sid", "login", "username", "email")  # not "student": LMSs put names there
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")  # an id is also a file name: no /, no spaces
DIGITS = 4  # digits after the point in sheets and keys: the variants' values are integers or tenths


def roster(path: Path) -> tuple[str, list[str]]:
    """(the id column's name, the student ids in the roster's order): the column named id (or
    student_id, sid, login, username, email). Ids must be unique and usable as file names."""
    header, rows = read_text_table(path, "roster")
    lower = [h.lower() for h in header]
    column = next((lower.index(c) for c in ID_COLUMNS if c in lower), None)
    if column is None:
        raise InputError(f"roster: {path} has no id column: name one of {', '.join(ID_COLUMNS)} "
                         f"(its header is {', '.join(header)})")
    ids: dict[str, int] = {}
    folded: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        sid = row[column]
        if not ID_PATTERN.fullmatch(sid):
            raise InputError(f"roster: {path} row {line}: {sid!r} cannot be an id (letters, digits and ._@+- only, "
                             "at most 64, starting with a letter or digit: it names the student's files)")
        if sid in ids:
            raise InputError(f"roster: {path} names {sid!r} twice (rows {ids[sid]} and {line})")
        if sid.lower() in folded:
            raise InputError(f"roster: {path} names {folded[sid.lower()]!r} and {sid!r}, which differ only in case: "
                             "their files would be one on macOS and Windows")
        ids[sid], folded[sid.lower()] = line, sid
    if not ids:
        raise InputError(f"roster: {path} lists no students")
    return header[column], list(ids)


@dataclass(frozen=True)
class Assignment:
    """Every student's variant, and how the files show them."""

    cfg: Config
    name: str
    id_column: str  # as the roster names it: the gradebook's id column has the same name, for the LMS to match
    variants: list[Variant]
    batch: int
    values: Values
    fmt: Format
    fingerprint: str = ""

    def files(self) -> dict[str, bytes]:
        """The folder's files by relative path: config.yaml, manifest.json, sheets/, keys/."""
        ext = "md" if self.fmt == "markdown" else "tex"
        out: dict[str, bytes] = {"config.yaml": self.cfg.to_yaml().encode()}
        students = []
        for v in self.variants:
            e = v.explanation
            paths = {"sheet": f"sheets/{v.student}.{ext}", "key": f"keys/{v.student}.json",
                     "answer_key": f"keys/{v.student}.{ext}"}
            given = 0 if self.values == "integers" else 1
            out[paths["sheet"]] = sheet(e, v.student, self.name, self.fmt, given).encode()
            out[paths["key"]] = dumps(grads_json(e)).encode()
            out[paths["answer_key"]] = answer_key(e, f"{self.name}, student {v.student}", self.fmt, DIGITS,
                                                  self.cfg.train.lr).encode()
            students.append({"id": v.student, **paths, "draws": v.draws})
        from importlib.metadata import version

        manifest = {"kind": KIND, "twonet": version("twonet"), "numpy": np.__version__, "config": self.name,
                    "network": network_json(self.cfg.net(), self.cfg.shape), "batch": self.batch,
                    "values": self.values, "format": self.fmt, "id_column": self.id_column,
                    "secret_fingerprint": self.fingerprint, "students": students, "files": sorted(out)}
        out["manifest.json"] = (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode()
        return out


def assign(cfg: Config, name: str, roster: tuple[str, list[str]], secret: str, batch: int | None, values: Values,
           fmt: Format) -> Assignment:
    """A variant per id of the roster (see ``variant``), of ``batch`` samples: by default as many as
    the config's example has, else 1."""
    if not secret:
        raise InputError("--secret: empty; the course secret seeds every variant (keep it, to redo the keys)")
    net, shape = cfg.net(), cfg.shape
    if batch is None:
        batch = len(cfg.example.x) if cfg.example is not None and cfg.example.x.ndim == 2 else 1
    column, ids = roster
    return Assignment(cfg, name, column, [variant(net, shape, sid, secret, batch, values) for sid in ids], batch,
                      values, fmt, fingerprint(secret))


def check_replace(out: Path, secret: str) -> None:
    """Before --force replaces an earlier assignment: it must have been made with the same secret,
    else its keys (perhaps handed out) would all change silently."""
    earlier = read_manifest(out)
    mark = earlier.get("secret_fingerprint")
    if mark and mark != fingerprint(secret):
        raise InputError(f"--out: {out} was made with another secret; its keys would all change: write to a new "
                         "folder, or give the secret it was made with")

