"""`twonet train --sweep key=v1,v2`: every combination of the swept values, each trained from the
same config (so the same data and seeds) exactly as a single run with those `--set` overrides."""

from __future__ import annotations

import itertools
import re

from .config.files import parse_override
from .errors import ConfigError


def _split_values(text: str) -> list[str]:
    """'a,b,[1, 2]' → ['a', 'b', '[1, 2]']: commas inside brackets or braces do not split."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "[{"
        depth -= ch in "]}"
        if ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [v.strip() for v in out]


def combinations(specs: list[str]) -> list[list[str]]:
    """The `--set` overrides of every run: the product of each `--sweep key=v1,v2,...`, in order."""
    axes = []
    keys: set[str] = set()
    for spec in specs:
        key, eq, values = spec.partition("=")
        key = key.strip()
        if not eq or not key or not values.strip():
            raise ConfigError(f"--sweep {spec}: expected key.path=value1,value2, e.g. --sweep model.f=tanh,relu")
        if key in keys:
            raise ConfigError(f"--sweep {spec}: {key} is swept twice")
        keys.add(key)
        options = _split_values(values)
        if any(not v for v in options):
            raise ConfigError(f"--sweep {spec}: an empty value")
        for v in options:
            parse_override(f"{key}={v}")  # an unknown key or bad YAML is refused now, before any run
        axes.append([f"{key}={v}" for v in options])
    runs = [list(c) for c in itertools.product(*axes)]
    if len(runs) > 1000:
        raise ConfigError(f"--sweep: {len(runs):,} combinations are more than the 1,000 one sweep may train")
    return runs


def run_name(index: int, overrides: list[str]) -> str:
    """The folder of run ``index`` in a sweep's --out: '03-f=relu_lr=0.1'."""
    parts = [f"{k.rsplit('.', 1)[-1]}={v}" for k, _, v in (o.partition("=") for o in overrides)]
    return f"{index:02d}-" + re.sub(r"[^A-Za-z0-9_.=+-]", "_", "_".join(parts))[:100]
