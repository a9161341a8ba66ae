"""Text files read whole and safely: a size cap, and parsed JSON or YAML nested at most MAX_DEPTH
deep (YAML's aliases capped too, so that no file costs more than reading it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError

MAX_TEXT_BYTES = 8 * 10**6  # YAML and JSON files: configs, and parameters written out as text (≈400k numbers)
MAX_DEPTH = 64  # lists and mappings nested in a YAML or JSON file
MAX_ALIASES = 64  # YAML aliases in one file


def read_text(path: Path, what: str) -> str:
    """A text file of at most MAX_TEXT_BYTES, read whole; any failure is a one-line ConfigError."""
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise ConfigError(f"{path}: {size / 1e6:.0f} MB is more than the {MAX_TEXT_BYTES // 10**6} MB a {what} "
                              "file may hold (save arrays as .npy/.npz)")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read {what}: {getattr(e, 'strerror', None) or e}") from None


def check_depth(value: Any, where: str) -> Any:
    """``value`` (parsed YAML or JSON) if it nests at most MAX_DEPTH lists or mappings deep."""
    stack = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ConfigError(f"{where}: nested more than {MAX_DEPTH} levels deep")
        if isinstance(v, dict):
            stack.extend((item, depth + 1) for item in v.values())
        elif isinstance(v, list):
            stack.extend((item, depth + 1) for item in v)
    return value


def parse_yaml(text: str, where: str) -> Any:
    """``text`` as ``yaml.safe_load`` reads it, with unique keys and capped aliases and depth."""
    from .yaml_text import parse  # YAML's import is paid only when a YAML text is read

    return check_depth(parse(text, where, MAX_DEPTH, MAX_ALIASES), where)


def read_yaml(path: Path, what: str) -> Any:
    """A YAML file parsed safely; any failure is a one-line ConfigError naming the file."""
    return parse_yaml(read_text(path, what), str(path))


def read_json(path: Path, what: str = "JSON") -> Any:
    """A JSON file parsed, nested at most MAX_DEPTH deep; any failure is a one-line InputError."""
    try:
        return check_depth(json.loads(read_text(path, what)), str(path))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: invalid JSON: {e}") from None
    except RecursionError:
        raise InputError(f"{path}: nested more than {MAX_DEPTH} levels deep") from None
    except ConfigError as e:
        raise InputError(str(e)) from None
