"""`twonet train` as a process: the --plot path checked before any work, stop signals (Ctrl-C,
SIGTERM, SIGHUP) that save and exit 128 + the signal, checkpoints that a signal waits for, and how
the run's end is told on stderr."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from rich.markup import escape

from .config import schema as config
from .console import err_console, error_line
from .errors import EXIT_MISMATCH, Interrupted
from .formats.write import check_out_file
from .train.loop import Training
from .train.runs import RunDir, params_bytes, preprocessing_bytes
from .train.session import Outcome, run_session
from .ui.train import TrainingProgress


def check_plot_path(plot: Path) -> None:
    """Refuse a --plot path before any training (see io.outputs.check_out_file)."""
    check_out_file(plot, "--plot", (".png",))


def run_training(training: Training, cfg: config.Config, run_dir: RunDir | None, quiet: bool) -> Outcome:
    """The whole run, with the progress bar on stderr unless quiet, saving into ``run_dir`` if given."""
    save = None
    if run_dir is not None:
        # serialised once, and only for a run directory; starting parameters are saved as init.npz
        # beside it (the config refers to the file), never written into the YAML
        init = params_bytes(training.params) if cfg.model.params is not None else None
        saved = replace(cfg, model=replace(cfg.model, params="init.npz")) if init is not None else cfg
        config_yaml = saved.to_yaml()
        extra = {"preprocessing.json": preprocessing_bytes(training.split.prep),
                 **({"init.npz": init} if init is not None else {})}

        def save(t: Training) -> None:
            with signals_held():  # a checkpoint is written whole; a signal waits for it, then stops the run
                run_dir.save(t.current, t.best_params, config_yaml, t.history, extra)
    stop_on_signals()
    if quiet:
        return run_session(training, None, save)
    with TrainingProgress(err_console, training.split.data.task, cfg.train.epochs) as progress:
        return run_session(training, progress, save)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _Held:
    """Whether a checkpoint is being written, and the stop signal that arrived meanwhile."""

    holding = False
    pending: int | None = None


def stop_on_signals() -> None:
    """Ctrl-C, `kill` (SIGTERM) and a closed terminal (SIGHUP) stop a run cleanly, saving what was
    reached — even when the shell started it with SIGINT ignored (a background job)."""
    if threading.current_thread() is not threading.main_thread():
        return

    def stop(signum: int, frame: object) -> None:
        for sig in STOP_SIGNALS:  # the run is stopping: a second signal must not cut the save or the report
            signal.signal(sig, signal.SIG_IGN)
        if _Held.holding:  # a checkpoint is being written: the run stops right after it
            _Held.pending = signum
            return
        raise Interrupted(signum)

    for sig in STOP_SIGNALS:
        signal.signal(sig, stop)


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold the stop signals while a checkpoint is written; one that arrived is handled after it.

    The signals are blocked in this thread, and the handler also defers them while holding:
    a process-directed signal may be delivered to another thread (numpy's BLAS threads), and
    Python then runs the handler in the main thread at its next instruction, mask or not."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _Held.holding, _Held.pending = True, None
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # a blocked signal's handler runs here
        _Held.holding = False
    if _Held.pending is not None:
        signum, _Held.pending = _Held.pending, None
        raise Interrupted(signum)


def report_stop(outcome: Outcome, lr: float, out: Path | None) -> None:
    """How a run stopped, on stderr, when it did not simply finish."""
    if outcome.reason == "diverged":
        saved = f"; the last finite parameters are in {out / 'params.npz'}" if out is not None else ""
        error_line(f"training diverged: {outcome.message}; try a smaller learning rate (train.lr is {lr:g}; "
                   f"e.g. --set train.lr={lr / 10:g}){saved}")
    elif outcome.reason == "interrupted":
        where = f"; saved what was reached in {out}" if out is not None else ""
        err_console.print(f"Interrupted: {escape(outcome.message)}{escape(where)}.", soft_wrap=True)


def training_exit(outcome: Outcome) -> int:
    """0 done, 1 diverged, 128 + the signal when interrupted (130 for Ctrl-C)."""
    return {"diverged": EXIT_MISMATCH, "interrupted": 128 + outcome.signum}.get(outcome.reason, 0)
