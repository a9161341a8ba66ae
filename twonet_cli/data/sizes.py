"""The sizes a config leaves out, told by its data: n, the feature columns, and K, the target
columns or the classes (one output for two classes, except with cross-entropy)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..config import files
from ..config.schema import DATA_SUFFIXES, Config, DataConfig
from . import generators

if TYPE_CHECKING:
    from .dataset import Dataset


class Opened:
    """Datasets opened to find a config's sizes, kept to be trained on (the file is read once),
    each for its data section and loss: the runs of a sweep over other keys share one."""

    def __init__(self) -> None:
        self._held: list[tuple[DataConfig, str, Dataset]] = []

    def get(self, c: Config) -> Dataset | None:
        """The dataset opened for ``c``'s data section and loss, if any."""
        return next((d for dc, loss, d in self._held if dc == c.data and loss == c.loss.name), None)

    def sizes(self, c: Config) -> tuple[int, int]:
        """(n, K) of ``c``'s data: a generator's without drawing it, a file's from its columns and
        classes, the file opened once and kept."""
        dc, loss = c.data, c.loss.name
        if Path(dc.source).suffix.lower() not in DATA_SUFFIXES:
            return generators.data_sizes(dc, loss)
        d = self.get(c)
        if d is None:
            from .dataset import open_source  # only a data file is opened: a generator's sizes are known

            d = open_source(dc, loss)
            self._held.append((dc, loss, d))
        return d.in_features, generators.outputs(d.task, loss, d.classes, len(d.target))


    def check_fit(self, c: Config) -> None:
        """Refuse now (a ConfigError naming the key) a config whose network does not fit its data:
        a file's columns and classes (the file opened once and kept), or a generator's, known
        without drawing it. A sweep checks every run so before the first."""
        from .dataset import _check_fit, check_fit, open_source
        from .generators import GENERATORS

        dc, loss = c.data, c.loss.name
        n, _, K = c.shape
        if Path(dc.source).suffix.lower() in DATA_SUFFIXES:
            d = self.get(c)
            if d is None:
                d = open_source(dc, loss)
                self._held.append((dc, loss, d))
            _check_fit(d, n, K, loss, dc.source)
            return
        if dc.source not in GENERATORS:
            generators.data_sizes(dc, loss)  # names the unknown generator
            return
        features, kind = GENERATORS[dc.source]
        task = kind if dc.task == "auto" else dc.task
        classes = (dc.classes if dc.source in ("blobs", "spiral") else 2) if kind == "classification" else 0
        check_fit(features, task, classes if task == "classification" else 0, 1, n, K, loss, dc.source)


def load_config(name_or_path: str | None = None, overrides: list[str] | tuple[str, ...] = (),
                opened: Opened | None = None) -> tuple[Config, Path]:
    """The validated config and its path (config.files.load), with sizes not given taken from the
    data; the datasets opened for them are kept in ``opened`` if given."""
    return files.load(name_or_path, overrides, (opened or Opened()).sizes)
