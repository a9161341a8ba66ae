"""One training run, put together once: the data split, the training, the run directory's
checkpoints, the diagnostics at the end and the test score. ``train``, every run of a sweep and
the tests call ``fit``; what is shown while it runs (progress) and how signals are held during a
checkpoint are the caller's (runner.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager as ContextManager
from dataclasses import replace
from pathlib import Path

from ..config.schema import Config
from ..data.dataset import Dataset, from_config
from .loop import Record, Training
from .runs import RunDir, params_bytes, preprocessing_bytes
from .session import Outcome, run_session


def fit(cfg: Config, out: Path | None = None, force: bool = False,
        watch: Callable[[Training], Callable[[Record], None]] | None = None,
        hold: Callable[[], ContextManager[None]] = contextlib.nullcontext,
        opened: Dataset | None = None) -> tuple[Training, Outcome]:
    """Train ``cfg``'s network on its data; with ``out``, save checkpoints and the end of the run there.

    ``watch(training)`` gives what receives every record (a progress bar); ``hold`` wraps each checkpoint's write (the
    caller holds stop signals there); ``opened`` is the config's dataset if it was opened already
    (to infer the sizes), so that the data file is read once. After the run: the test score
    (data.test, unless the run diverged) and the diagnostics at the end (history.csv's last row)."""
    n, _, K = cfg.shape
    split = from_config(cfg.data, n, K, cfg.loss.name, opened)
    training = Training(cfg.net(), cfg.params(), split, cfg.train)
    run_dir = RunDir(out, force) if out is not None else None
    try:
        show = watch(training) if watch is not None else None
        outcome = run_session(training, show, _saver(cfg, training, run_dir, hold) if run_dir else None)
    finally:
        if run_dir is not None:
            run_dir.close()
    if outcome.reason != "diverged":
        training.score_test()
    training.finish_diagnostics()
    return training, outcome


def _saver(cfg: Config, training: Training, run_dir: RunDir,
           hold: Callable[[], ContextManager[None]]) -> Callable[[Training], None]:
    """The checkpoint writer of a run: the config and preprocessing serialised once; explicit
    starting parameters saved as init.npz beside it (the saved config refers to the file)."""
    init = params_bytes(training.initial) if cfg.model.params is not None else None
    saved = replace(cfg, model=replace(cfg.model, params="init.npz")) if init is not None else cfg
    config_yaml = saved.to_yaml()
    extra = {"preprocessing.json": preprocessing_bytes(training.split.prep),
             **({"init.npz": init} if init is not None else {})}

    def save(t: Training) -> None:
        with hold():  # a checkpoint is written whole
            run_dir.save(t.current, t.best_params, config_yaml, t.history, extra)

    return save
