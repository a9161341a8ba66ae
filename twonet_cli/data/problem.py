"""The batch `grads` and `check` work on: parameters, x (B, n) and y (B, K) from the command
line's options, falling back to the config's example and parameters."""

from __future__ import annotations

from pathlib import Path

from ..config.files import config_name
from ..config.schema import Config
from ..core.activations import Array
from ..core.model import Params
from ..errors import InputError
from ..formats.arrays import load_array, load_params
from .targets import as_inputs, as_targets


def load_problem(cfg: Config, input_: str | None, target: str | None, params: str | None,
                 source: Path) -> tuple[Params, Array, Array]:
    """(params, x (B, n), y (B, K)) from the command line's options, falling back to the config."""
    n, m, K = cfg.shape
    p = load_params(params, (n, m, K)) if params else cfg.params()
    loss = cfg.loss.name
    name = config_name(source)
    if input_ is not None:
        if target is None:
            raise InputError("--target: needed with --input (K numbers per sample, or class indices)")
        x = as_inputs(load_array(input_, "--input"), n, "--input")
        return p, x, as_targets(load_array(target, "--target"), K, x.shape[0], loss, "--target")
    if cfg.example is None:
        raise InputError(f"--input: needed, since {name} has no example section")
    x = as_inputs(cfg.example.x, n, f"{name}: example.x")
    if target is not None:
        y = as_targets(load_array(target, "--target"), K, x.shape[0], loss, "--target")
    elif cfg.example.y is not None:
        y = as_targets(cfg.example.y, K, x.shape[0], loss, f"{name}: example.y")
    else:
        raise InputError(f"--target: needed, since {name} has no example.y")
    return p, x, y
