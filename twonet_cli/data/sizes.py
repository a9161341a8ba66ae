"""The sizes a config leaves out, told by its data: n, the feature columns, and K, the target
columns or the classes (one output for two classes, except with cross-entropy)."""

from __future__ import annotations

from pathlib import Path

from ..config import files
from ..config.schema import DATA_SUFFIXES, Config
from . import generators
from .dataset import open_source


def data_sizes(c: Config) -> tuple[int, int]:
    """(n, K) of ``c``'s data: a generator's without drawing it, a file's from its columns and classes."""
    dc, loss = c.data, c.loss.name
    if Path(dc.source).suffix.lower() not in DATA_SUFFIXES:
        return generators.data_sizes(dc, loss)
    d = open_source(dc, loss)
    return d.in_features, generators.outputs(d.task, loss, d.classes, len(d.target))


def load_config(name_or_path: str | None = None, overrides: list[str] | tuple[str, ...] = ()) -> tuple[Config, Path]:
    """The validated config and its path (config.files.load), with sizes not given taken from the data."""
    return files.load(name_or_path, overrides, data_sizes)
