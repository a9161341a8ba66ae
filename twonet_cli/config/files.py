"""Config files: shipped configs by name, ``--set`` overrides, and errors.

Precedence is defaults < config file < ``--set key.path=value``. A file is parsed by yaml_text.py
(``yaml.SafeLoader`` with unique keys and capped aliases), or, if its text is a shipped config's,
taken from that parse made beforehand (shipped.py). Every error is one line naming the file (or
the override) and the dotted key.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import DEFAULT_CONFIG
from ..errors import ConfigError, InputError, path_kind
from ..formats.arrays import load_param_arrays
from ..formats.text import parse_yaml, read_text
from . import shipped
from .fields import YAML11_NUMBER, build, field_type
from .schema import DATA_SUFFIXES, Config, validate
from .shipped import shipped_configs, shipped_dir


def resolve(name_or_path: str | None) -> Path:
    """A config path from a path or the name of a shipped config (default: DEFAULT_CONFIG)."""
    arg = name_or_path or DEFAULT_CONFIG
    path = Path(arg)
    try:
        kind = path_kind(path, "--config")
    except InputError as e:
        raise ConfigError(str(e)) from None
    if kind == "file":
        return path
    shipped = shipped_configs()
    if arg in shipped:
        return shipped[arg]
    if kind != "missing":
        raise ConfigError(f"--config: '{arg}' is not a file")
    raise ConfigError(f"--config: no file '{arg}' and no shipped config of that name (shipped: {', '.join(shipped)})")


def read_config(path: Path) -> Any:
    """Parse a config file safely; any failure is a one-line ConfigError.

    The text of a shipped config is looked up in its parse made beforehand (shipped.py), without
    importing YAML; any other text is read by the capped YAML loader (formats/text.py)."""
    text = read_text(path, "config")
    parsed = shipped.parsed(text)
    if parsed is not None:
        return parsed
    return parse_yaml(text, str(path))


def _short(text: str, limit: int = 80) -> str:
    """An override as quoted in a message: cut at ``limit`` characters, so the line stays readable."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def parse_override(text: str) -> tuple[str, Any]:
    """``model.hidden=8`` → ("model.hidden", 8); the value is read as YAML."""
    key, eq, value = text.partition("=")
    key = key.strip()
    if not eq or not key:
        raise ConfigError(f"--set {_short(text)}: expected key.path=value, e.g. --set model.hidden=8")
    field_type(Config, key)  # rejects unknown paths now, naming them
    import yaml

    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        raise ConfigError(f"--set {_short(text)}: the value is not valid YAML") from None
    if isinstance(parsed, str) and YAML11_NUMBER.fullmatch(parsed.strip()):
        parsed = float(parsed)  # YAML 1.1 reads 2e-05 (no dot) as text; YAML 1.2 and users read a number
    return key, parsed


def _merge(raw: dict[str, Any], key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    node = raw
    for part in parents:
        child = node.get(part)
        if isinstance(child, str):  # a shorthand like `f: tanh` being refined by `f.scale=2`
            child = {"name": child}
        node[part] = child = child if isinstance(child, dict) else {}
        node = child
    node[leaf] = value


def load(name_or_path: str | None = None, overrides: list[str] | tuple[str, ...] = (),
         data_sizes: Sizes | None = None) -> tuple[Config, Path]:
    """The validated config and its path: defaults < file < overrides; sizes not given are taken
    from explicit params, else from ``data_sizes`` (data/sizes.load_config passes the data's)."""
    path = resolve(name_or_path)
    raw = read_config(path)
    if raw is None:
        raise ConfigError(f"{path}: the config is empty")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level: expected a mapping of sections (model, loss, ...)")
    raw = copy.deepcopy(raw)
    origin: dict[str, str] = {}
    for text in overrides:
        try:
            key, value = parse_override(text)
        except ConfigError as e:
            raise ConfigError(str(e) if str(e).startswith("--set") else f"--set {_short(text)}: {e}") from None
        _merge(raw, key, value)
        origin[key] = f"--set {_short(text)}"
    _absolute_paths(raw, path, origin)
    try:
        config = build(Config, raw)
        config = with_sizes(config, data_sizes)
        validate(config)
    except ConfigError as e:
        raise ConfigError(f"{_blame(str(e), origin, path)}: {e}") from None
    return config, path


DATA_PATHS = ("source", "validation", "test")  # data keys that may name files


def _absolute_paths(raw: dict[str, Any], path: Path, origin: dict[str, str]) -> None:
    """Data files (and a model.params file) named in a config are relative to the config's folder;
    named by ``--set``, to the current directory. Either way they are made absolute, so that the resolved config (saved
    with a run) finds them from anywhere."""
    model = raw.get("model")
    if isinstance(model, dict) and isinstance(model.get("params"), str) and model["params"]:
        base = Path.cwd() if any(k in origin for k in ("model.params", "model")) else path.parent
        model["params"] = os.path.abspath(base / Path(model["params"]).expanduser())
    data = raw.get("data")
    if not isinstance(data, dict):
        return
    for key in DATA_PATHS:
        value = data.get(key)
        if isinstance(value, str) and value and (key != "source" or Path(value).suffix.lower() in DATA_SUFFIXES):
            base = Path.cwd() if f"data.{key}" in origin or "data" in origin else path.parent
            data[key] = os.path.abspath(base / Path(value).expanduser())


Sizes = Callable[[Config], tuple[int, int]]  # (n, K) the data tells (data/sizes.py)


def with_sizes(c: Config, data_sizes: Sizes | None) -> Config:
    """``c`` with in_features and out_features filled in where not given: from explicit params
    (W1 is m × n, b2 has K entries), else from the data, as ``data_sizes`` reads them."""
    m = c.model
    n, K = m.in_features, m.out_features
    if n is not None and K is not None:
        return c
    if m.params is not None:
        arrays = (load_param_arrays(m.params, "model.params", document_key="params") if isinstance(m.params, str)
                  else {"W1": np.asarray(m.params.W1), "b2": np.asarray(m.params.b2)})
        W1, b2 = arrays["W1"], arrays["b2"]
        n = n if n is not None or W1.ndim != 2 else int(W1.shape[1])
        K = K if K is not None or b2.ndim != 1 else int(b2.shape[0])
    if n is None or K is None:
        missing = " and ".join(k for k, v in (("in_features", n), ("out_features", K)) if v is None)
        if data_sizes is None:
            raise ConfigError(f"model.{missing}: not given")
        data_n, data_K = data_sizes(c)  # the data's own errors name the data
        n, K = n if n is not None else data_n, K if K is not None else data_K
    return replace(c, model=replace(m, in_features=n, out_features=K))


def config_name(path: Path) -> str:
    """How output and errors name a config: 'regression (shipped config)', or the path given."""
    return f"{path.stem} (shipped config)" if path.parent == shipped_dir() else str(path)


def _blame(message: str, origin: dict[str, str], path: Path) -> str:
    """The override that caused an error at a dotted key, or else the file.

    A key an override set (or set inside) is its; so is a key missing from a section that an
    override brought into being (`--set model.params.W1=...` leaves b1 missing)."""
    key = message.split(":", 1)[0]
    parent = key.rpartition(".")[0]
    for k, o in origin.items():
        if key == k or key.startswith(k + ".") or (message.endswith("missing required key") and parent
                                                    and k.startswith(parent + ".")):
            return o
    return config_name(path)
