"""What each command works on, from its options: a config (or a saved run's), the batch `grads`
and `check` show, the network `predict` and `evaluate` apply. Every mistake is a one-line
TwonetError naming the option.

Saved runs, streams and datasets are imported where they are used: `grads` on a shipped config
starts without them (start-up is measured by benchmarks/bench_startup.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .config.files import config_name
from .config.schema import Config, with_params
from .core.activations import Array
from .core.model import PARAM_NAMES, Params
from .data.problem import load_problem
from .data.sizes import Opened, load_config
from .errors import TwonetError, path_kind
from .formats.arrays import load_params

if TYPE_CHECKING:
    from .data.preprocessing import Preprocessing
    from .inference import Model


def config(run: Path | None, best: bool, config_: str | None, set_: list[str] | None) -> tuple[Config, Path]:
    """The config of --run (which takes no --config or --set), else of --config and --set."""
    if run is None:
        if best:
            raise TwonetError("--best: needs --run")
        return load_config(config_, set_ or ())
    _run_alone(config_, set_)
    from .train.runs import load_run

    return load_run(run, best).config, run / "config.yaml"


def training_config(config_: str | None, set_: list[str], params: str | None,
                    opened: Opened | None = None) -> tuple[Config, Path]:
    """The config `train` runs: --config and --set, starting from --params if given (refused now
    if it does not fit the network; the config refers to the file, never holds its arrays)."""
    cfg, path = load_config(config_, set_, opened)
    if params:
        load_params(params, cfg.shape)
        cfg = with_params(cfg, os.path.abspath(params))
    return cfg, path


def _run_params(run: Path | None, best: bool, params: str | None) -> str | None:
    """--params, else the saved parameters of --run (best.npz with --best)."""
    if params is not None or run is None:
        return params
    return str(run / ("best.npz" if best else "params.npz"))


def problem(run: Path | None, best: bool, config_: str | None, set_: list[str] | None, input_: str | None,
            target: str | None, params: str | None) -> tuple[Config, Path, Params, Array, Array]:
    """(config, its path, params, x, y) for `grads` and `check`. With --run, --input holds raw rows
    as the training file had them (the run's feature columns are picked and standardised), and the
    targets are class values as the file had them (numbers or text), or one-hot rows."""
    if run is None or input_ is None:
        cfg, path = config(run, best, config_, set_)
        return cfg, path, *load_problem(cfg, input_, target, _run_params(run, best, params), path)
    from .data.stream import open_rows
    from .data.targets import as_targets, class_targets
    from .formats.arrays import load_array
    from .inference import features, labelled

    model, _, cfg = model_of(run, best, None, None, params)  # the run read once
    path = run / "config.yaml"
    stream = open_rows(input_, "--input", model.prep.in_features)
    K, loss = model.K, cfg.loss.name
    if target is None or model.prep.labels is not None:  # labelled rows, or class labels read as a table
        targets = open_rows(target, "--target", 1, labels=True) if target is not None else None
        x_parts, y_parts = zip(*labelled(model, stream, targets), strict=True)
        x, raw = np.concatenate(x_parts), np.concatenate(y_parts)
    else:
        x, raw = np.concatenate(list(features(model, stream))), load_array(target, "--target")
    if model.prep.labels is not None:
        return cfg, path, model.params, x, class_targets(model.prep.target_classes(raw, "--target"), K, loss)
    return cfg, path, model.params, x, as_targets(raw, K, x.shape[0], loss, "--target")


def check_batch(cfg: Config, input_: str | None, target: str | None, params: str | None, path: Path,
                batch: int) -> tuple[Params, Array, Array, str]:
    """(params, x, y, where the batch came from) for `check`: --input, else the config's example (the
    batch `grads` shows), else a seeded random batch that the report names."""
    from .check.report import random_batch

    if input_ is not None or cfg.example is not None:
        p, x, y = load_problem(cfg, input_, target, params, path)
        return p, x, y, "--input" if input_ is not None else "the config's example"
    if target is not None:
        raise TwonetError(f"--target: needs --input ({config_name(path)} has no example)")
    p = load_params(params, cfg.shape) if params else cfg.params()
    seed = cfg.model.init.seed
    x, y = random_batch(cfg.shape[0], cfg.shape[2], cfg.loss.name, batch, np.random.default_rng(seed))
    return p, x, y, f"random (seed {seed}, x ~ N(0, 1)): pass --input to check your own"


@dataclass(frozen=True)
class GradsDocument:
    """A `grads --json` document given to `check --grads`: the gradients, and the network, parameters
    and batch they were computed for."""

    network: dict[str, Any]
    params: Params
    x: Array
    y: Array


def grads_document(spec: str) -> GradsDocument | None:
    """The document, when --grads names a `grads --json` output (None for a plain W1, b1, W2, b2 file)."""
    from .formats.arrays import numbers_array
    from .formats.text import read_json

    path = Path(spec)
    if path.suffix.lower() != ".json" or path_kind(path, "--grads") != "file":
        return None
    raw = read_json(path)
    if not (isinstance(raw, dict) and {"network", "params", "grads", "samples"} <= raw.keys()):
        return None
    try:
        samples = raw["samples"]
        params = Params(**{k: numbers_array(raw["params"][k], f"{path}: params.{k}") for k in PARAM_NAMES})
        x = numbers_array([s["x"] for s in samples], f"{path}: samples.x")
        y = numbers_array([s["y"] for s in samples], f"{path}: samples.y")
    except (KeyError, TypeError) as e:
        raise TwonetError(f"--grads: {path}: not a `twonet grads --json` document ({type(e).__name__}: {e})") from None
    return GradsDocument(raw["network"], params, x, y)


def check_against(doc: GradsDocument, cfg: Config, p: Params, x: Array, y: Array, spec: str) -> None:
    """Refuse, before any verdict, a document computed for another network, other parameters or
    another batch than the one checked: its gradients would be judged against the wrong reference."""
    from .ui.jsondoc import network_json

    want = network_json(cfg.net(), cfg.shape)
    if doc.network != want:
        diff = ", ".join(f"{k} {doc.network.get(k)!r} (the config: {v!r})" for k, v in want.items()
                         if doc.network.get(k) != v)
        raise TwonetError(f"--grads: {spec} was computed for another network: {diff}; pass its config with -c")
    same = (doc.x.shape == x.shape and np.array_equal(doc.x, x) and doc.y.shape == y.shape and np.array_equal(doc.y, y))
    if not same:
        raise TwonetError(f"--grads: {spec} holds the gradients of another batch than the one checked here; leave out "
                          "--input/--target to check them on their own batch")
    if not all(np.array_equal(a, b) for (_, a), (_, b) in zip(doc.params.items(), p.items(), strict=True)):
        raise TwonetError(f"--grads: {spec} holds the gradients at other parameters than the ones checked here; leave "
                          "out --params/--run to check them at their own")


def check_problem(run: Path | None, best: bool, config_: str | None, set_: list[str] | None, input_: str | None,
                  target: str | None, params: str | None, batch: int, document: GradsDocument | None = None
                  ) -> tuple[Config, Path, Params, Array, Array, str]:
    """(config, path, params, x, y, where the batch came from) for `check`; a `grads --json`
    ``document`` checked on its own batch and parameters unless others are given."""
    if run is not None and input_ is not None:
        return *problem(run, best, config_, set_, input_, target, params), f"--input (with {run}'s preprocessing)"
    cfg, path = config(run, best, config_, set_)
    if document is not None and input_ is None and target is None and params is None and run is None:
        return cfg, path, document.params, document.x, document.y, "the batch and parameters of the --grads document"
    return cfg, path, *check_batch(cfg, input_, target, _run_params(run, best, params), path, batch)


def _run_alone(config_: str | None, set_: list[str] | None) -> None:
    """--run brings its own config: --config and --set are refused beside it."""
    if config_ is not None or set_:
        raise TwonetError("--run: takes the run's own config; --config and --set cannot be combined with it")


def model_of(run: Path | None, best: bool, config_: str | None, set_: list[str] | None,
             params: str | None) -> tuple[Model, str, Config]:
    """The network to apply, how to name it, and its config: a saved run, or a config (+ params),
    whose preprocessing is fitted again on its data exactly as training did."""
    from .inference import Model
    from .train.runs import load_run

    if run is not None:
        _run_alone(config_, set_)
        r = load_run(run, best)
        p = load_params(params, r.config.shape) if params else r.params
        prep = r.prep if r.prep is not None else _fitted_prep(r.config, None)
        return Model(r.config.net(), p, prep), str(run), r.config
    if best:
        raise TwonetError("--best: needs --run")
    opened = Opened()
    cfg, path = load_config(config_, set_ or (), opened)
    p = load_params(params, cfg.shape) if params else cfg.params()
    return Model(cfg.net(), p, _fitted_prep(cfg, opened)), config_name(path), cfg


def _fitted_prep(cfg: Config, opened: Opened | None) -> Preprocessing:
    from .data.dataset import from_config

    n, _, K = cfg.shape
    return from_config(cfg.data, n, K, cfg.loss.name, opened.get(cfg) if opened else None).prep


def evaluation_source(cfg: Config) -> str:
    """The labelled rows `evaluate` scores without --input: the config's data.test."""
    if cfg.data.test is None:
        raise TwonetError("--input: needed (labelled rows to score), since the config has no data.test")
    return cfg.data.test
