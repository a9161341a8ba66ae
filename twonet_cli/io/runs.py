"""A training run's output directory: params.npz, best.npz, config.yaml, history.csv.

Every file is written whole to a temporary file in the same directory, flushed to disk, then
renamed over the old one (``os.replace`` is atomic): a crash or a kill at any moment leaves either
the previous complete file or the new complete one, never a truncated file.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core.model import Params
from ..errors import InputError, OutputError, path_kind
from ..train.loop import Epoch

FILES = ("params.npz", "best.npz", "config.yaml", "history.csv")
STALE = re.compile(r"\.(params\.npz|best\.npz|config\.yaml|history\.csv)\.[a-z0-9_]{8}\.tmp")  # mkstemp's names
HISTORY_COLUMNS = ("epoch", "steps", "train_loss", "val_loss", "metric", "lr", "seconds", "samples")


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers only ever see the old or the new content."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would make results private to their owner
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def params_bytes(p: Params) -> bytes:
    """W1, b1, W2, b2 as the bytes of an .npz file."""
    buf = io.BytesIO()
    np.savez(buf, W1=p.W1, b1=p.b1, W2=p.W2, b2=p.b2)
    return buf.getvalue()


def history_bytes(history: Sequence[Epoch]) -> bytes:
    """The history as the bytes of history.csv, one row per epoch, floats in full (repr)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HISTORY_COLUMNS)
    for e in history:
        w.writerow([e.epoch, e.steps, repr(e.train_loss), "" if e.val_loss is None else repr(e.val_loss),
                    "" if e.metric is None else repr(e.metric), repr(e.lr), f"{e.seconds:.6f}", e.samples])
    return buf.getvalue().encode()


class RunDir:
    """The directory a run saves into, held with an exclusive lock for the run's lifetime.

    Refuses to overwrite an earlier run unless forced, and a second run on the same directory
    always. Touches only names twonet writes: FILES, their temporary names while being written
    (``.{file}.XXXXXXXX.tmp``). The lock is taken on the directory itself, so nothing is left of it
    after the run, however it ends."""

    def __init__(self, path: Path, force: bool = False):
        self.path, self.force, self.saves = path, force, 0
        kind = path_kind(path, "--out")
        if kind not in ("dir", "missing"):
            raise InputError(f"--out: '{path}' exists and is not a directory")
        existing = [f for f in FILES if path_kind(path / f, "--out") != "missing"]
        if existing and not force:
            raise InputError(f"--out: '{path}' already holds a run ({', '.join(existing)}); "
                             "choose another directory or pass --force to overwrite it")
        self._created = kind == "missing"
        try:
            path.mkdir(parents=True, exist_ok=True)
            self._lock = os.open(path, os.O_RDONLY)
        except OSError as e:
            raise InputError(f"--out: cannot use '{path}': {e.strerror or e}") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._lock)
            raise InputError(f"--out: another twonet run is writing to '{path}' right now; wait for it, "
                             "or choose another directory") from None

    def close(self) -> None:
        """Release the lock; a directory this run created and never saved into is removed again."""
        os.close(self._lock)
        if self._created and not self.saves:
            with contextlib.suppress(OSError):
                self.path.rmdir()

    def save(self, params: Params, best: Params | None, config_yaml: str, history: Sequence[Epoch]) -> None:
        """A complete checkpoint: each file replaced atomically, config and history first, params last.

        A disk that is full or a file that cannot be written is an OutputError (exit 2), leaving
        each file as its last complete version."""
        if not self.saves:
            for stale in self.path.iterdir():  # temporary files of a run that was killed mid-write
                if STALE.fullmatch(stale.name):
                    stale.unlink(missing_ok=True)
        written = ["config.yaml", "history.csv", *(["best.npz"] if best is not None else []), "params.npz"]
        try:
            atomic_write(self.path / "config.yaml", config_yaml.encode())
            atomic_write(self.path / "history.csv", history_bytes(history))
            if best is not None:
                atomic_write(self.path / "best.npz", params_bytes(best))
            atomic_write(self.path / "params.npz", params_bytes(params))
        except OSError as e:
            raise OutputError(f"--out: cannot write to '{self.path}': {e.strerror or e}; each file there is its "
                              "last complete version") from None
        if not self.saves and self.force:  # nothing of an earlier run stays beside this one
            for old in set(FILES) - set(written):
                (self.path / old).unlink(missing_ok=True)
        self.saves += 1
