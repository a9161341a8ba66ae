"""Drive a training run for the command line: progress on stderr, checkpoints, Ctrl-C, outcome."""

from __future__ import annotations

import json
import math
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape

from .data import Dataset
from .render_train import Regions, loss_curve, metric_name, progress_bar, status, summary
from .runs import RunDir
from .train import Epoch, Progress, Stopped, Training, best_epoch


@dataclass(frozen=True)
class Outcome:
    reason: str  # done | early_stop | diverged | interrupted
    message: str
    seconds: float


def drive(training: Training, console: Console | None, run_dir: RunDir | None, config_yaml: str) -> Outcome:
    """Iterate the run; show progress on ``console`` (None: quiet); save to ``run_dir`` as it goes.

    Ctrl-C stops after saving what was reached. The last checkpoint is always the final state.
    """
    # Ctrl-C must stop a run cleanly even when the shell started it with SIGINT ignored (a
    # background job), so that `kill -INT` also saves and exits
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    t0 = time.perf_counter()
    last_save = t0
    stop: Stopped | None = None
    bar = progress_bar(console) if console is not None else None
    epochs = training.cfg.epochs
    task_id = bar.add_task("train", total=epochs, epoch=f"0/{epochs}", status="") if bar else None
    last_epoch: Epoch | None = None
    try:
        if bar is not None:
            bar.start()
        for record in training.run():
            if isinstance(record, Stopped):
                stop = record
            elif isinstance(record, Progress) and bar is not None and task_id is not None:
                done = record.epoch - 1 + record.seen / record.rows
                bar.update(task_id, completed=done, epoch=f"{record.epoch}/{epochs}",
                           status=status(training.data.task, record.loss, last_epoch))
            elif isinstance(record, Epoch):
                last_epoch = record
                if bar is not None and task_id is not None:
                    bar.update(task_id, completed=record.epoch, epoch=f"{record.epoch}/{epochs}",
                               status=status(training.data.task, record.train_loss, record))
                if run_dir is not None and time.perf_counter() - last_save >= training.cfg.checkpoint_seconds:
                    run_dir.save(training.current, training.best_params, config_yaml, training.history)
                    last_save = time.perf_counter()
    except KeyboardInterrupt:
        epoch = last_epoch.epoch if last_epoch else 0
        stop = Stopped("interrupted", epoch, training.history[-1].steps if training.history else 0,
                       f"interrupted by Ctrl-C after epoch {epoch}")
    finally:
        if bar is not None:
            bar.stop()
    if run_dir is not None:
        run_dir.save(training.current, training.best_params, config_yaml, training.history)
    assert stop is not None  # run() always ends with a Stopped record
    return Outcome(stop.reason, stop.message, time.perf_counter() - t0)


def decision_regions(training: Training, data: Dataset, rows: Any, resolution: int = 200) -> Regions | None:
    """For 2-D classification: the predicted class on a grid around the data, and the data."""
    if data.task != "classification" or data.in_features != 2:
        return None
    from .model import forward

    x, labels = data.take(np.sort(rows))
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = 0.1 * (hi - lo)
    gx, gy = np.meshgrid(*(np.linspace(a - d, b + d, resolution) for a, b, d in zip(lo, hi, pad, strict=True)))
    y_hat = forward(training.net, training.current, np.stack([gx.ravel(), gy.ravel()], axis=1)).y_hat
    predicted = y_hat.argmax(axis=1) if y_hat.shape[1] > 1 else (y_hat[:, 0] > 0.5).astype(int)
    return gx, gy, predicted.reshape(gx.shape), x, labels


def report(training: Training, outcome: Outcome, lr: float, out: Path | None, as_json: bool, console: Console,
           error_line: Callable[[str], None]) -> None:
    """The end of a run: a summary (tables, or JSON) on stdout, and how it stopped on stderr."""
    task = training.data.task
    if as_json:
        sys.stdout.write(json.dumps(outcome_json(training, outcome, out)) + "\n")
    elif training.history:
        console.print(summary(training.history, task, outcome.seconds, outcome.message))
        console.print(loss_curve(training.history))
        if out is not None:
            console.print(f"saved params.npz, best.npz, config.yaml, history.csv in {escape(str(out))}")
    saved = f"; the last finite parameters are in {out / 'params.npz'}" if out is not None else ""
    if outcome.reason == "diverged":
        error_line(f"training diverged: {outcome.message}; try a smaller learning rate (train.lr is {lr:g}; "
                   f"e.g. --set train.lr={lr / 10:g}){saved}")
    elif outcome.reason == "interrupted":
        where = f"; saved what was reached in {out}" if out is not None else ""
        Console(stderr=True, highlight=False).print(f"Interrupted: {escape(outcome.message)}{escape(where)}.",
                                                    soft_wrap=True)


def outcome_json(training: Training, outcome: Outcome, out: Path | None) -> dict[str, Any]:
    """A finished run as plain JSON values (non-finite numbers as null)."""
    h = training.history
    last = h[-1] if h else None
    best = best_epoch(h)
    step_time = sum(e.seconds for e in h)
    return {
        "stopped": outcome.reason,
        "message": outcome.message,
        "epochs": last.epoch if last else 0,
        "steps": last.steps if last else 0,
        "train_loss": last.train_loss if last else None,
        "val_loss": last.val_loss if last else None,
        "best_val_loss": best.val_loss if best else None,
        "best_epoch": best.epoch if best else None,
        "metric_name": metric_name(training.data.task),
        "metric": last.metric if last else None,
        "samples_per_second": sum(e.samples for e in h) / step_time if step_time > 0 else None,
        "seconds": outcome.seconds,
        "out": str(out) if out is not None else None,
        "history": [{k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in e.__dict__.items()}
                    for e in h],
    }
