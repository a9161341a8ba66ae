"""A training run's output directory, all plain files: the parameters reached (params.npz) and at
the best epoch (best.npz), the resolved config (config.yaml), the history (history.csv), the
preprocessing (preprocessing.json: the columns, standardisation and class labels the network
expects), explicit starting parameters (init.npz), and manifest.json, which names the checkpoint
they belong to with each file's SHA-256. ``load_run`` reads one back for `predict`, `evaluate`,
`grads` and `check`.

A checkpoint is written aside (``.NAME.ckpt-N``, each file flushed to disk), then committed by
writing manifest.json (aside and renamed: the commit point), then renamed into place. A crash or a
kill at any moment leaves either the previous checkpoint (visible files and manifest agree) or the
new one committed but not all renamed: the reader finishes the renames. So the files the other
commands read always come from one checkpoint, and a file that does not match the manifest (edited
or copied over since) is named, not silently mixed in. A lock file (not ``fcntl``, not links: both
work on every platform) keeps a second run out.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import math
import os
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config.schema import Config
from ..core.model import Params
from ..data.preprocessing import Preprocessing
from ..errors import InputError, OutputError, path_kind
from ..formats.text import read_json
from ..formats.write import atomic_write, sync_dir, write_synced
from .loop import Epoch

FILES = ("params.npz", "best.npz", "config.yaml", "history.csv", "preprocessing.json", "init.npz")
MANIFEST = "manifest.json"  # written last: the checkpoint the files belong to, and their SHA-256
FORMAT = "twonet run"
LOCK = ".twonet.lock"  # held while a run writes: the writer's process id
_NAMES = "|".join(re.escape(f) for f in (*FILES, MANIFEST))
PENDING = re.compile(rf"\.({_NAMES})\.ckpt-(\d+)")  # a checkpoint's file, written aside before the commit
STALE = re.compile(rf"\.({_NAMES})\.[a-z0-9_]{{8}}\.tmp")  # atomic_write's temporary names (mkstemp's)
LEGACY = re.compile(r"\.current|\.checkpoint-\d+|\.[\w.]+\.\d+\.link\.tmp")  # runs saved before manifest.json
HISTORY_COLUMNS = ("epoch", "steps", "train_loss", "val_loss", "metric", "train_metric", "lr", "seconds", "samples",
                   "grad_W1", "grad_W2", "kept", "flat", "dead", "update_1", "update_2", "moved_1", "moved_2")


def params_bytes(p: Params) -> bytes:
    """W1, b1, W2, b2 as the bytes of an .npz file."""
    buf = io.BytesIO()
    np.savez(buf, W1=p.W1, b1=p.b1, W2=p.W2, b2=p.b2)
    return buf.getvalue()


def preprocessing_bytes(prep: Preprocessing) -> bytes:
    """The preprocessing as the bytes of preprocessing.json (floats exactly, by repr)."""
    return (json.dumps(prep.to_dict(), indent=1) + "\n").encode()


@dataclass(frozen=True)
class Run:
    """A saved run read back: its resolved config, parameters and preprocessing."""

    path: Path
    config: Config
    params: Params
    prep: Preprocessing | None  # None for a run saved before preprocessing.json existed


def digest(data: bytes) -> str:
    """A file's SHA-256, as manifest.json records it."""
    return hashlib.sha256(data).hexdigest()


def read_manifest(path: Path, where: str = "--run") -> dict[str, str] | None:
    """The files of the checkpoint a run's manifest.json names, with their SHA-256 (None without
    one: a run saved before manifests, or files put together by hand); a malformed one is an InputError."""
    file = path / MANIFEST
    if path_kind(file, where) == "missing":
        return None
    try:
        raw = json.loads(file.read_bytes()[:1 << 20])
        files = raw["files"]
        if raw.get("format") != FORMAT or not isinstance(files, dict) or not all(
                k in FILES and isinstance(v, dict) and isinstance(v.get("sha256"), str) for k, v in files.items()):
            raise ValueError("not twonet's")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError(f"{where}: {file}: not a twonet run's manifest ({e})") from None
    return {k: v["sha256"] for k, v in files.items()}


def settle(path: Path, where: str = "--run", wait: float = 2.0) -> None:
    """Make the files of ``path`` the checkpoint its manifest names: wait for a run that is renaming
    them into place, finish the renames of one that stopped mid-way, or name the files that match no
    checkpoint (edited or copied over since: delete manifest.json to use them as they are)."""
    manifest = read_manifest(path, where)
    if manifest is None:
        return
    deadline = time.monotonic() + wait
    while True:
        wrong = [name for name, sha in manifest.items() if not _matches(path / name, sha)]
        if not wrong:
            return
        if not (path / LOCK).exists() or time.monotonic() > deadline:
            break
        time.sleep(0.05)  # a run is writing: its renames take milliseconds
    pending = {m[1]: path / p.name for p in path.iterdir() if (m := PENDING.fullmatch(p.name))}
    for name in wrong:  # committed but not renamed into place: finish what the stopped run began
        if name in pending and _matches(pending[name], manifest[name]):
            with contextlib.suppress(OSError):
                os.replace(pending[name], path / name)
    still = [name for name, sha in manifest.items() if not _matches(path / name, sha)]
    if still:
        gone = [name for name in still if not (path / name).exists()]
        what = (f"{', '.join(gone)} missing" if gone else "") + ("; " if gone and len(gone) < len(still) else "") + \
            ", ".join(name for name in still if name not in gone)
        what += "" if len(gone) == len(still) else " not the files of the checkpoint manifest.json names"
        raise InputError(f"{where}: '{path}': {what} (a copy of a run stopped while saving, or files changed since?); "
                         "copy the run again once a twonet command has read it where it was saved, or delete "
                         "manifest.json to use the files as they are")


def _matches(file: Path, sha: str) -> bool:
    try:
        return digest(file.read_bytes()) == sha
    except OSError:
        return False


def load_run(path: Path, best: bool = False, where: str = "--run") -> Run:
    """The run saved in directory ``path`` (its best.npz with ``best``), its files one checkpoint's
    (``settle``); one-line errors naming what is missing."""
    from ..data.sizes import load_config
    from ..formats.arrays import load_params

    kind = path_kind(path, where)
    if kind != "dir":
        raise InputError(f"{where}: '{path}' is not a directory" if kind != "missing" else
                         f"{where}: no directory '{path}'")
    settle(path, where)
    if path_kind(path / "config.yaml", where) != "file":
        raise InputError(f"{where}: '{path}' holds no run (no config.yaml); train one with twonet train --out DIR")
    cfg, _ = load_config(str(path / "config.yaml"))
    name = "best.npz" if best else "params.npz"
    if path_kind(path / name, where) != "file":
        hint = " (best.npz is written once the run's first epoch has finished)" if best else ""
        raise InputError(f"{where}: '{path}' has no {name}{hint}")
    params = load_params(str(path / name), cfg.shape, f"{where}: {name}")
    prep = None
    if path_kind(path / "preprocessing.json", where) == "file":
        file = path / "preprocessing.json"
        prep = Preprocessing.from_dict(read_json(file, "preprocessing"), str(file))  # capped size and depth
        n, _, K = cfg.shape
        if prep.in_features != n:
            raise InputError(f"{file}: {prep.in_features} features, but config.yaml's network takes {n}")
        if prep.labels is not None and len(prep.labels) != (K if K > 1 else 2):
            raise InputError(f"{file}: {len(prep.labels)} class labels, but config.yaml's network has {K} output(s)")
    return Run(path, cfg, params, prep)


def history_bytes(history: Sequence[Epoch]) -> bytes:
    """The history as the bytes of history.csv, one row per epoch, floats in full (repr)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HISTORY_COLUMNS)
    for e in history:  # an empty cell where a value is absent or undefined (no validation, an epoch not diagnosed)
        w.writerow(["" if (v := getattr(e, k)) is None or (isinstance(v, float) and not math.isfinite(v))
                    else f"{v:.6f}" if k == "seconds" else repr(v) for k in HISTORY_COLUMNS])
    return buf.getvalue().encode()


class RunDir:
    """The directory a run saves into, held with a lock file for the run's lifetime.

    Refuses to overwrite an earlier run unless forced, a second run on the same directory always,
    and a folder whose files merely share a run's names (config.yaml, …) but hold no twonet run,
    even when forced. Touches only the names twonet writes: FILES, manifest.json, the lock, and
    their temporary twins (``.NAME.ckpt-N``, ``.NAME.`` + 8 characters + ``.tmp``)."""

    def __init__(self, path: Path, force: bool = False):
        self.path, self.force, self.saves, self.number = path, force, 0, 0
        kind = check_run_dir(path, force)
        self._created = kind == "missing"
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"--out: cannot use '{path}': {e.strerror or e}") from None
        self._lock()

    def _lock(self) -> None:
        """Take the lock file, or refuse: another run holds it. A lock left by a process that is gone
        (killed) is taken over."""
        lock = self.path / LOCK
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                if _holder_alive(lock):
                    raise InputError(f"--out: another twonet run is writing to '{self.path}' right now; wait for it, "
                                     f"or choose another directory (if none is, delete {lock})") from None
                lock.unlink(missing_ok=True)  # its writer was killed: stale
                continue
            except OSError as e:
                raise InputError(f"--out: cannot use '{self.path}': {e.strerror or e}") from None
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()}\n")
            return
        raise InputError(f"--out: cannot lock '{self.path}' (remove {LOCK} there if no twonet run is writing)")

    def close(self) -> None:
        """Release the lock; a directory this run created and never saved into is removed again."""
        (self.path / LOCK).unlink(missing_ok=True)
        if self._created and not self.saves:
            with contextlib.suppress(OSError):
                self.path.rmdir()

    def save(self, params: Params, best: Params | None, config_yaml: str, history: Sequence[Epoch],
             extra: dict[str, bytes] | None = None) -> None:
        """A complete checkpoint: its files written aside and flushed, committed by manifest.json,
        then renamed into place (see the module's docstring). A disk that is full or a file that
        cannot be written is an OutputError (exit 2), and the last complete checkpoint stays."""
        if not self.saves:
            self._clean()
        files = {"config.yaml": config_yaml.encode(), "history.csv": history_bytes(history), **(extra or {}),
                 **({"best.npz": params_bytes(best)} if best is not None else {}), "params.npz": params_bytes(params)}
        self.number += 1
        aside = {name: self.path / f".{name}.ckpt-{self.number}" for name in files}
        try:
            for name, data in files.items():
                with os.fdopen(os.open(aside[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666), "wb") as fh:
                    write_synced(fh, data)
            sync_dir(self.path)
            manifest = {"format": FORMAT, "checkpoint": self.number,
                        "files": {name: {"sha256": digest(data), "bytes": len(data)} for name, data in files.items()}}
            atomic_write(self.path / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())  # the commit
        except OSError as e:
            for file in aside.values():
                file.unlink(missing_ok=True)
            self.number -= 1
            kept = "; the last complete checkpoint is kept" if self.saves else ""
            raise OutputError(f"--out: cannot write to '{self.path}': {e.strerror or e}{kept}") from None
        for name, file in aside.items():
            os.replace(file, self.path / name)
        for old in set(FILES) - set(files):  # nothing of an earlier checkpoint stays beside this one
            (self.path / old).unlink(missing_ok=True)
        if not self.saves and self.force:
            self._drop_legacy()
        sync_dir(self.path)
        self.saves += 1

    def _clean(self) -> None:
        """Before the first checkpoint: finish the renames of a run killed after its commit (so its
        checkpoint stays whole), then remove what it left aside. An earlier run that --force
        replaces stays whole until this run's first commit replaces it."""
        with contextlib.suppress(InputError):
            settle(self.path, "--out", wait=0)
        _remove_matching(self.path, PENDING, STALE)

    def _drop_legacy(self) -> None:
        """After the first commit over a run of an earlier version: its checkpoint folders and links."""
        _remove_matching(self.path, LEGACY)


def check_run_dir(path: Path, force: bool) -> str:
    """Refuse, before any work, a directory a run may not save into: not a directory, a run already
    there (unless ``force``), files named like a run's that are not a twonet run's (even forced).
    Returns what ``path`` is now ('dir' or 'missing')."""
    kind = path_kind(path, "--out")
    if kind not in ("dir", "missing"):
        raise InputError(f"--out: '{path}' exists and is not a directory")
    existing = [f for f in (*FILES, MANIFEST) if path_kind(path / f, "--out") != "missing"]
    if existing and not is_run(path):
        raise InputError(f"--out: '{path}' holds {', '.join(existing)} but no twonet run (no valid manifest.json): "
                         "twonet replaces only a run's own files; move yours or choose another directory")
    if existing and not force:
        raise InputError(f"--out: '{path}' already holds a run ({', '.join(existing)}); "
                         "choose another directory or pass --force to overwrite it")
    return kind


def is_run(path: Path) -> bool:
    """True for a directory a twonet run saved: its manifest.json, or the link of an earlier version's run."""
    if (path / ".current").is_symlink():
        return True
    try:
        return read_manifest(path, "--out") is not None
    except InputError:
        return False


def remove_run(path: Path) -> None:
    """A twonet run's files removed (only those), and its folder if nothing else is left in it; a
    run another process is writing is refused (an InputError), never removed under it."""
    if not is_run(path):
        return
    if (path / LOCK).exists() and _holder_alive(path / LOCK):
        raise InputError(f"--out: another twonet run is writing to '{path}' right now; wait for it, or choose another "
                         f"directory (if none is, delete {path / LOCK})")
    for name in (MANIFEST, *FILES, LOCK):
        (path / name).unlink(missing_ok=True)
    _remove_matching(path, PENDING, STALE, LEGACY)
    with contextlib.suppress(OSError):
        path.rmdir()


def _remove_matching(path: Path, *patterns: re.Pattern[str]) -> None:
    """Remove the entries of ``path`` whose names match one of ``patterns`` (twonet's own names only)."""
    for entry in path.iterdir():
        if any(p.fullmatch(entry.name) for p in patterns):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _holder_alive(lock: Path) -> bool:
    """Whether the process named in a lock file still runs (where that cannot be known, assume so)."""
    try:
        pid = int(lock.read_text().split()[0])
    except (OSError, ValueError, IndexError):  # being written this instant, or not a lock twonet wrote
        try:
            return time.time() - lock.stat().st_mtime < 10  # a lock is written whole in microseconds
        except OSError:
            return False
    if pid == os.getpid() or os.name != "posix":
        return pid != os.getpid()  # our own pid: a lock left by a killed process that had it before us
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
