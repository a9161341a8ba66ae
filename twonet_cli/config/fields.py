"""Build frozen dataclasses from parsed YAML, checking every key and type against the annotations.

Errors are ``ConfigError`` naming the dotted key (``model.f.scale``); the caller prefixes the
file. Fields are annotated with plain types, ``Literal`` choices, nested dataclasses, ``X | None``,
and ``Annotated[T, Range(...)]`` or ``Annotated[Any, ARRAY]`` for numeric arrays.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import numpy as np

from ..errors import ConfigError
from ..formats.arrays import is_numbers

T = TypeVar("T")
YAML11_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")  # 1e-4: a number YAML 1.1 reads as text


@dataclass(frozen=True)
class Range:
    """Inclusive bounds for a number; ``open_low`` makes the lower bound exclusive."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False

    def check(self, v: float) -> str | None:
        """The problem with ``v`` as a sentence fragment, or None when it is in range."""
        if self.low is not None and (v < self.low or (self.open_low and v == self.low)):
            return f"must be {'>' if self.open_low else '≥'} {self.low:g}, got {v!r}"
        if self.high is not None and v > self.high:
            return f"must be ≤ {self.high:g}, got {v!r}"
        return None


ARRAY = "array"  # marker: a number, or a (nested) list of numbers, stored as a float64 array


def _kind(v: Any) -> str:
    if v is None:
        return "nothing (null)"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a mapping"}.get(type(v), type(v).__name__)


def hints(cls: type) -> dict[str, Any]:
    """A dataclass's field annotations, resolved, with Annotated extras kept."""
    return typing.get_type_hints(cls, include_extras=True)


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def build(cls: type[T], raw: Any, path: str = "") -> T:
    """An instance of dataclass ``cls`` from the mapping ``raw``; defaults fill missing keys."""
    shorthand = getattr(cls, "SHORTHAND", None)
    if isinstance(raw, str) and shorthand:  # `f: tanh` means `f: {name: tanh}`
        raw = {shorthand: raw}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path or 'top level'}: expected a mapping, got {_kind(raw)}")
    field_types = hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        dotted = f"{path}.{key}" if path else str(key)
        if key not in names:
            raise ConfigError(
                f"{dotted}: unknown key (expected one of: {', '.join(names)}){_suggest(str(key), names)}"
            )
        kwargs[key] = coerce(field_types[key], value, dotted)
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and f.name not in kwargs:
            raise ConfigError(f"{path + '.' if path else ''}{f.name}: missing required key")
    return cls(**kwargs)


def coerce(tp: Any, value: Any, path: str) -> Any:
    """``value`` checked (and converted where lossless) to annotation ``tp``."""
    origin, args = get_origin(tp), get_args(tp)
    if origin is typing.Annotated:
        base, *marks = args
        if ARRAY in marks:
            return _array(value, path)
        out = coerce(base, value, path)
        for mark in marks:
            problem = mark.check(out) if isinstance(mark, Range) else None
            if problem:
                raise ConfigError(f"{path}: {problem}")
        return out
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return coerce(options[0], value, path)
        problems = []
        for inner in options:  # the first reading that fits wins: `int | Literal["full"]`
            try:
                return coerce(inner, value, path)
            except ConfigError as e:
                problems.append(str(e).removeprefix(f"{path}: "))
        raise ConfigError(f"{path}: {'; or '.join(problems)}")
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected a list, got {_kind(value)} {value!r}")
        return [coerce(args[0], v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is Literal:
        if value not in args or isinstance(value, bool):
            options = [str(a) for a in args]
            raise ConfigError(
                f"{path}: expected one of {', '.join(options)}, got {value!r}{_suggest(str(value), options)}"
            )
        return value
    if dataclasses.is_dataclass(tp):
        return build(typing.cast(type, tp), value, path)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true or false, got {_kind(value)} {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: expected an integer, got {_kind(value)} {value!r}")
        return value
    if tp is float:
        if isinstance(value, str) and YAML11_NUMBER.fullmatch(value.strip()):
            value = float(value)  # YAML 1.1 reads 1e-4 (no dot) as text; YAML 1.2 and every user read a number
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path}: expected a number, got {_kind(value)} {value!r}")
        try:
            number = float(value)
        except OverflowError:  # an integer with hundreds of digits
            raise ConfigError(f"{path}: expected a finite number, got an integer too large for float64") from None
        if not math.isfinite(number):
            raise ConfigError(f"{path}: expected a finite number, got {value!r}")
        return number
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected a string, got {_kind(value)} {value!r}")
        return value
    raise TypeError(f"unsupported annotation {tp!r} at {path}")  # a bug in a schema, not user input


def _array(value: Any, path: str) -> np.ndarray[Any, Any]:
    """A finite float64 array from a number or nested lists of numbers."""
    if not is_numbers(value):
        raise ConfigError(f"{path}: expected a number or a list of numbers, got {_kind(value)}")
    try:
        a = np.asarray(value, dtype=np.float64)
    except OverflowError:
        raise ConfigError(f"{path}: a number is too large for float64") from None
    except ValueError:
        raise ConfigError(f"{path}: rows have different lengths") from None
    if not np.isfinite(a).all():
        raise ConfigError(f"{path}: expected finite numbers, got NaN or infinity")
    return a


def field_type(cls: type, dotted: str) -> Any:
    """The annotation at ``dotted`` under ``cls``, or ConfigError naming the first unknown part."""
    tp: Any = cls
    walked: list[str] = []
    for part in dotted.split("."):
        while get_origin(tp) in (Union, types.UnionType, typing.Annotated):
            tp = next(a for a in get_args(tp) if a is not type(None))
        if not dataclasses.is_dataclass(tp):
            raise ConfigError(f"{'.'.join(walked)} has no sub-key '{part}'")
        names = [f.name for f in dataclasses.fields(tp)]
        if part not in names:
            here = ".".join([*walked, part])
            raise ConfigError(f"{here}: unknown key (expected one of: {', '.join(names)}){_suggest(part, names)}")
        walked.append(part)
        tp = hints(typing.cast(type, tp))[part]
    return tp


def to_plain(obj: Any) -> Any:
    """A dataclass tree as plain dicts, lists and numbers (for YAML and JSON)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj
