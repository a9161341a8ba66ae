"""A training run's output directory — its files are FILES: the parameters reached (params.npz) and
at the best epoch (best.npz), the resolved config, the history, the preprocessing (the columns,
standardisation and class labels the network expects), and explicit starting parameters
(init.npz) — and ``load_run``, which reads one back for `predict`, `evaluate`, `grads` and `check`.

Each checkpoint is a folder of its own (``.checkpoint-N``), written and flushed to disk whole, then
made current by one atomic rename of the ``.current`` link; the files' names are links through it.
A crash or a kill at any moment leaves one complete checkpoint, whose files agree with each other.
Other files (a plot) are written to a temporary name and renamed (``atomic_write``).
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config.schema import Config
from ..core.model import Params
from ..data.preprocessing import Preprocessing
from ..errors import InputError, OutputError, path_kind
from ..formats.write import sync_dir, write_synced
from .loop import Epoch

FILES = ("params.npz", "best.npz", "config.yaml", "history.csv", "preprocessing.json", "init.npz")
CURRENT = ".current"  # a link to the current checkpoint folder
CHECKPOINT = re.compile(r"\.checkpoint-(\d+)")
_NAMES = "|".join(re.escape(f) for f in FILES)
LINK_TMP = re.compile(rf"\.(current|{_NAMES})\.\d+\.link\.tmp")
STALE = re.compile(rf"\.({_NAMES})\.[a-z0-9_]{{8}}\.tmp")  # mkstemp's names
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


def load_run(path: Path, best: bool = False, where: str = "--run") -> Run:
    """The run saved in directory ``path`` (its best.npz with ``best``); one-line errors naming
    what is missing."""
    from ..data.sizes import load_config
    from ..formats.arrays import load_params

    kind = path_kind(path, where)
    if kind != "dir":
        raise InputError(f"{where}: '{path}' is not a directory" if kind != "missing" else
                         f"{where}: no directory '{path}'")
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
        try:
            raw = json.loads((path / "preprocessing.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise InputError(f"{path / 'preprocessing.json'}: cannot read: {e}") from None
        prep = Preprocessing.from_dict(raw, str(path / "preprocessing.json"))
        if prep.in_features != cfg.shape[0]:
            raise InputError(f"{path / 'preprocessing.json'}: {prep.in_features} features, but config.yaml's "
                             f"network takes {cfg.shape[0]}")
    return Run(path, cfg, params, prep)


def history_bytes(history: Sequence[Epoch]) -> bytes:
    """The history as the bytes of history.csv, one row per epoch, floats in full (repr)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HISTORY_COLUMNS)
    for e in history:  # an empty cell where a value is absent (no validation, an epoch not diagnosed)
        w.writerow(["" if (v := getattr(e, k)) is None else f"{v:.6f}" if k == "seconds" else repr(v)
                    for k in HISTORY_COLUMNS])
    return buf.getvalue().encode()


class RunDir:
    """The directory a run saves into, held with an exclusive lock for the run's lifetime.

    Refuses to overwrite an earlier run unless forced, and a second run on the same directory
    always. Touches only names twonet writes: FILES, the checkpoint folders and links, and the
    temporary names of files being written (``.{file}.`` + eight random characters + ``.tmp``).
    The lock is taken on the directory itself, so nothing is left of it after the run."""

    def __init__(self, path: Path, force: bool = False):
        self.path, self.force, self.saves, self.number = path, force, 0, 0
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

    def save(self, params: Params, best: Params | None, config_yaml: str, history: Sequence[Epoch],
             extra: dict[str, bytes] | None = None) -> None:
        """A complete checkpoint, visible all at once: its files are written and fsynced into a new
        ``.checkpoint-N`` folder, then the ``.current`` link is switched to it in one rename; the
        files users open (params.npz, …) are links through ``.current``. A kill at any moment
        leaves the previous checkpoint or this one, whole: the files always agree.

        A disk that is full or a file that cannot be written is an OutputError (exit 2), and the
        last complete checkpoint stays current."""
        if not self.saves:
            self._clean()
        files = {"config.yaml": config_yaml.encode(), "history.csv": history_bytes(history),
                 **(extra or {}),
                 **({"best.npz": params_bytes(best)} if best is not None else {}), "params.npz": params_bytes(params)}
        self.number += 1
        folder = self.path / f".checkpoint-{self.number}"
        try:
            folder.mkdir()
            for name, data in files.items():
                _write_new(folder / name, data)
            sync_dir(folder)
            _replace_link(self.path / CURRENT, folder.name)
            for name in files:  # the names users open, made once (an older run's plain file is replaced)
                link = self.path / name
                if not (link.is_symlink() and os.readlink(link) == f"{CURRENT}/{name}"):
                    _replace_link(link, f"{CURRENT}/{name}")
            for old in set(FILES) - set(files):  # nothing of an earlier run stays beside this one
                if self.force or (self.path / old).is_symlink():
                    (self.path / old).unlink(missing_ok=True)
            sync_dir(self.path)
        except OSError as e:
            shutil.rmtree(folder, ignore_errors=True)
            self.number -= 1
            raise OutputError(f"--out: cannot write to '{self.path}': {e.strerror or e}; the last complete "
                              "checkpoint is kept") from None
        for stale in self.path.iterdir():  # earlier checkpoints, no longer current
            match = CHECKPOINT.fullmatch(stale.name)
            if match and int(match[1]) != self.number:
                shutil.rmtree(stale, ignore_errors=True)
        self.saves += 1

    def _clean(self) -> None:
        """Remove what a killed run of twonet left: its temporary names, and checkpoint folders that
        are not current. Nothing else is touched."""
        current = os.readlink(self.path / CURRENT) if (self.path / CURRENT).is_symlink() else None
        for stale in self.path.iterdir():
            match = CHECKPOINT.fullmatch(stale.name)
            if STALE.fullmatch(stale.name) or LINK_TMP.fullmatch(stale.name):
                stale.unlink(missing_ok=True)
            elif match:
                self.number = max(self.number, int(match[1]))
                if stale.name != current:
                    shutil.rmtree(stale, ignore_errors=True)


def _write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file and flush it to disk (the umask applies, as for any file)."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as fh:
        write_synced(fh, data)


def _replace_link(link: Path, target: str) -> None:
    """Make ``link`` a symbolic link to ``target`` in one rename, replacing what was there."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.link.tmp")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)
