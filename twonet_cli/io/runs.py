"""A training run's output directory: params.npz, best.npz, config.yaml, history.csv.

Every file is written whole to a temporary file in the same directory, flushed to disk, then
renamed over the old one (``os.replace`` is atomic): a crash or a kill at any moment leaves either
the previous complete file or the new complete one, never a truncated file.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core.model import Params
from ..errors import InputError
from ..train.loop import Epoch

FILES = ("params.npz", "best.npz", "config.yaml", "history.csv")
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
    """The directory a run saves into; refuses to overwrite an earlier run unless forced."""

    def __init__(self, path: Path, force: bool = False):
        self.path = path
        existing = [f for f in FILES if (path / f).exists()]
        if path.exists() and not path.is_dir():
            raise InputError(f"--out: '{path}' exists and is not a directory")
        if existing and not force:
            raise InputError(f"--out: '{path}' already holds a run ({', '.join(existing)}); "
                             "choose another directory or pass --force to overwrite it")

    def save(self, params: Params, best: Params | None, config_yaml: str, history: Sequence[Epoch]) -> None:
        """A complete checkpoint: each file replaced atomically, config and history first, params last.

        The directory is created on the first save, so a run refused before training leaves nothing.
        """
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"--out: cannot create '{self.path}': {e.strerror}") from None
        for stale in self.path.glob(".*.tmp"):  # left by a run that was killed mid-write
            if stale.name.split(".")[1] in {f.split(".")[0] for f in FILES}:
                stale.unlink(missing_ok=True)
        atomic_write(self.path / "config.yaml", config_yaml.encode())
        atomic_write(self.path / "history.csv", history_bytes(history))
        if best is not None:
            atomic_write(self.path / "best.npz", params_bytes(best))
        atomic_write(self.path / "params.npz", params_bytes(params))
