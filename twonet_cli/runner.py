"""`twonet train` (and `predict`) as a process: the --plot path checked before any work, stop signals (Ctrl-C,
SIGTERM, SIGHUP) that save and exit 128 + the signal, checkpoints that a signal waits for, and how
the run's end is told on stderr."""

from __future__ import annotations

import itertools
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from .config import schema as config
from .console import err_console, error_line, shown
from .data.dataset import Dataset
from .errors import EXIT_MISMATCH, Interrupted, OutputError, TwonetError
from .formats.write import check_out_file
from .train.fit import fit
from .train.loop import Training
from .train.session import Outcome
from .ui.train import TrainingProgress

PLOT_SUFFIXES = (".png", ".svg", ".pdf")  # PNG for screens, SVG and PDF for notes (LaTeX)


def check_plot(plot: Path | None) -> None:
    """Refuse a --plot path (and a missing matplotlib) before any training (formats.write.check_out_file)."""
    if plot is None:
        return
    from .ui.plots import require_matplotlib

    check_out_file(plot, "--plot", PLOT_SUFFIXES)
    require_matplotlib()


def plot_run(plot: Path | None, training: Training, cfg: config.Config, path: Path, overrides: list[str]) -> None:
    """Draw a finished run into --plot (nothing without one, or when no epoch finished: then it says so)."""
    if plot is None:
        return
    if not training.history:
        err_console.print(f"--plot: no epoch finished, so nothing to draw; {shown(str(plot))} not written",
                          highlight=False)
        return
    from .config.files import config_name
    from .ui import plots

    task = training.split.data.task
    title = plots.run_title(config_name(path), cfg, training.history, task, overrides)
    write_plot(plot, plots.run_figure(title, training.net, training.split, training.history, training.initial,
                                      training.current, training.hints()))


def write_plot(path: Path, figure: Any) -> None:
    """Render a figure to ``path`` (PNG, SVG or PDF by its suffix), atomically, and say where."""
    from .formats.write import atomic_write
    from .ui.plots import render

    try:
        atomic_write(path, render(figure, path.suffix.lower().lstrip(".")))
    except OSError as e:
        raise OutputError(f"--plot: cannot write '{path}': {e.strerror or e}") from None
    err_console.print(f"wrote the plot to {shown(str(path))}", highlight=False)


def train_run(cfg: config.Config, out: Path | None, force: bool, quiet: bool,
              opened: Dataset | None = None) -> tuple[Training, Outcome]:
    """``fit`` as a process runs it: stop signals save and stop the run, a checkpoint being written
    holds them, and the progress bar is drawn on stderr unless ``quiet``."""
    stop_on_signals()
    if quiet:
        return fit(cfg, out, force, None, signals_held, opened)
    with TrainingProgress(err_console, cfg.train.epochs) as progress:
        return fit(cfg, out, force, progress.follow, signals_held, opened)


# Ctrl-C, `kill`, a closed terminal (SIGHUP is POSIX's: absent on Windows)
STOP_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)


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
    masks = hasattr(signal, "pthread_sigmask")  # POSIX; elsewhere the handler's deferral alone holds them
    if masks:
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        if masks:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # a blocked signal's handler runs here
        _Held.holding = False
    if _Held.pending is not None:
        signum, _Held.pending = _Held.pending, None
        raise Interrupted(signum)


def write_predictions(out: Path | None, columns: list[str], blocks: Iterable[tuple[Any, Any]]) -> None:
    """`predict`'s rows, to --out (whole or nothing) or streamed to stdout (a failure then says how
    many came before it); SIGTERM and SIGHUP stop it as Ctrl-C does, --out's temporary file removed."""
    import sys

    from .formats.write import TableWriter

    stop_on_signals()
    chunks = iter(blocks)
    first = next(chunks, None)  # the first chunk read and checked before anything, the header too, is written
    writer = TableWriter(out, columns, terminal=out is None and sys.stdout.isatty())
    try:
        with writer:
            for y_hat, labels in itertools.chain([first] if first is not None else [], chunks):
                writer.write(y_hat, labels)
    except TwonetError as e:
        if out is None and writer.rows:  # stdout is streamed: say how much of it came before
            e.args = (f"{e} ({writer.rows:,} prediction row(s) were written to stdout before it; "
                      "--out FILE writes all of them or nothing)",)
        raise
    except Interrupted as e:  # after the writer removed its temporary file
        err_console.print("Interrupted.")
        raise typer.Exit(128 + e.signum) from None
    if out is not None:
        err_console.print(f"wrote {writer.rows:,} prediction(s) to {shown(str(out))}", highlight=False)


def report_stop(outcome: Outcome, lr: float, out: Path | None) -> None:
    """How a run stopped, on stderr, when it did not simply finish."""
    if outcome.reason == "diverged":
        saved = f"; the last finite parameters are in {out / 'params.npz'}" if out is not None else ""
        error_line(f"training diverged: {outcome.message}; try a smaller learning rate (train.lr is {lr:g}; "
                   f"e.g. --set train.lr={lr / 10:g}){saved}")
    elif outcome.reason == "interrupted":
        where = f"; saved what was reached in {out}" if out is not None else ""
        err_console.print(f"Interrupted: {shown(outcome.message)}{shown(where)}.", soft_wrap=True)


def training_exit(outcome: Outcome) -> int:
    """0 done, 1 diverged, 128 + the signal when interrupted (130 for Ctrl-C)."""
    return {"diverged": EXIT_MISMATCH, "interrupted": 128 + outcome.signum}.get(outcome.reason, 0)
