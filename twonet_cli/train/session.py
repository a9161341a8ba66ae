"""A whole training run: iterate the loop, hand each record to the caller's display, checkpoint
at most every ``checkpoint_seconds``, and stop cleanly on Ctrl-C. Prints nothing, writes nothing:
the caller passes ``show`` (e.g. a progress bar) and ``save`` (e.g. a run directory)."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from .loop import Epoch, Record, Stopped, Training


@dataclass(frozen=True)
class Outcome:
    """How a run ended, and how long it took in all."""

    reason: str  # done | early_stop | diverged | interrupted
    message: str
    seconds: float
    signum: int = 2  # the signal that interrupted the run (SIGINT unless told)


def run_session(training: Training, show: Callable[[Record], None] | None,
                save: Callable[[Training], None] | None) -> Outcome:
    """Run ``training`` to its end; ``save`` is called at checkpoints and always once at the end.

    Ctrl-C (KeyboardInterrupt) stops the run after saving what was reached."""
    t0 = last_save = time.perf_counter()
    stop: Stopped | None = None
    try:
        for record in training.run():
            if show is not None:
                show(record)
            if isinstance(record, Stopped):
                stop = record
            elif isinstance(record, Epoch) and save is not None and \
                    time.perf_counter() - last_save >= training.cfg.checkpoint_seconds:
                save(training)
                last_save = time.perf_counter()
    except KeyboardInterrupt as e:
        signum = int(getattr(e, "signum", signal.SIGINT))
        epoch = training.history[-1].epoch if training.history else 0
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        stop = Stopped("interrupted", epoch, training.history[-1].steps if training.history else 0,
                       f"interrupted by {name} after epoch {epoch}")
    else:
        signum = signal.SIGINT
    if save is not None:
        try:
            save(training)
        except KeyboardInterrupt:  # a second Ctrl-C arrived during the save, which the caller let finish
            stop = stop if stop is not None and stop.reason == "interrupted" else Stopped(
                "interrupted", training.history[-1].epoch if training.history else 0, 0, "interrupted by Ctrl-C")
    assert stop is not None, "Training.run always ends with a Stopped record"
    return Outcome(stop.reason, stop.message, time.perf_counter() - t0, int(signum))
