"""Rich renderables for `twonet train`: the progress bar, the summary, a loss curve in the terminal."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rich.console import Console, Group, RenderableType
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from ..console import shown
from ..core.metrics import Task, metric_key, metric_name
from ..errors import printable
from ..train.loop import Epoch, EpochProgress, Record, Training, best_epoch
from ..train.runs import FILES
from ..train.session import Outcome


def fmt_metric(task: Task, value: float | None) -> str:
    """Accuracy as a percentage, R² to four places, '—' when undefined."""
    if value is None or math.isnan(value):
        return "—"
    if task == "classification":
        return f"{100 * value:.1f}%"
    return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.3e}"  # a diverged run's R² can be −1e277


class TrainingProgress:
    """A run's progress on ``console`` (stderr). On a terminal: a live bar of epochs, losses and
    the metric as text, redrawn 4 times a second, not per step; narrower terminals (under 100
    columns) drop the time remaining and shorten the bar, so the numbers stay whole. Elsewhere
    (a log file, CI, nohup): one plain line per epoch, at most one every ``LOG_SECONDS`` (the
    first and the last epoch always), as Keras' ``verbose=2``. Use as a context manager; ``follow``
    a training, then call it with each record."""

    LOG_SECONDS = 1.0

    def __init__(self, console: Console, epochs: int, task: Task = "regression"):
        self.task, self.epochs, self.console = task, epochs, console
        self.last: Epoch | None = None
        self.logged: Epoch | None = None
        self.logged_at = -math.inf
        self.started = time.monotonic()
        self.bar: Progress | None = None
        if not console.is_terminal:
            return
        narrow = console.width < 100
        self.bar = Progress(
            TextColumn("[bold]epoch {task.fields[epoch]}[/bold]"),
            BarColumn(bar_width=10 if narrow else 40),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            *(() if narrow else (TimeRemainingColumn(),)),
            console=console,
            refresh_per_second=4,
            transient=False,
        )
        self.id: TaskID = self.bar.add_task("train", total=epochs, epoch=f"0/{epochs}", status="")

    def __enter__(self) -> TrainingProgress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
        elif self.last is not None and self.last is not self.logged:
            self._log(self.last)

    def follow(self, training: Training) -> TrainingProgress:
        """Show the records of ``training`` (its task names the metric): returns this display."""
        self.task = training.split.data.task
        return self

    def __call__(self, record: Record) -> None:
        """Show a record of the training loop."""
        if isinstance(record, Epoch):
            self.last = record
        if self.bar is None:
            if isinstance(record, Epoch) and (record.epoch in (1, self.epochs) or
                                              time.monotonic() - self.logged_at >= self.LOG_SECONDS):
                self._log(record)
        elif isinstance(record, EpochProgress):
            self.bar.update(self.id, completed=record.epoch - 1 + record.seen / record.rows,
                            epoch=f"{record.epoch}/{self.epochs}", status=status(self.task, record.loss, self.last))
        elif isinstance(record, Epoch):
            self.bar.update(self.id, completed=record.epoch, epoch=f"{record.epoch}/{self.epochs}",
                            status=status(self.task, record.train_loss, record))

    def _log(self, e: Epoch) -> None:
        elapsed = time.monotonic() - self.started
        self.console.print(f"epoch {e.epoch}/{self.epochs} · {status(self.task, e.train_loss, e)} · "
                           f"{elapsed:.1f} s elapsed", soft_wrap=True, highlight=False, markup=False)
        self.console.file.flush()
        self.logged, self.logged_at = e, time.monotonic()


def status(task: Task, train_loss: float, e: Epoch | None) -> str:
    """The text beside the progress bar: losses and the metric so far."""
    text = f"train {train_loss:.4g}"
    if e is not None and e.val_loss is not None:
        text += f" · val {e.val_loss:.4g}"
    if e is not None:
        text += f" · {metric_name(task)} {fmt_metric(task, e.metric)}"
    return text


def training_summary(history: Sequence[Epoch], task: Task, seconds: float, reason: str,
                     test: tuple[float, float] | None = None) -> Table:
    """The table printed when a run ends."""
    last = history[-1]
    best = best_epoch(history)
    samples = sum(e.samples for e in history)
    step_time = sum(e.seconds for e in history)
    t = Table(title="Training summary", title_justify="left", title_style="bold", show_header=False)
    t.add_column(style="bold")
    t.add_column(justify="right")
    t.add_row("stopped", reason)
    t.add_row("epochs · steps", f"{last.epoch} · {last.steps:,}")
    t.add_row("final train loss", f"{last.train_loss:.6g}")
    if last.val_loss is not None:
        t.add_row("final validation loss", f"{last.val_loss:.6g}")
    if best is not None and best.val_loss is not None:
        t.add_row("best validation loss", f"{best.val_loss:.6g} (epoch {best.epoch})")
    where = "validation" if last.val_loss is not None else "training"
    t.add_row(f"{metric_name(task)} ({where})", fmt_metric(task, last.metric))
    if test is not None:
        t.add_row("test loss", f"{test[0]:.6g}")
        t.add_row(f"{metric_name(task)} (test)", fmt_metric(task, test[1]))
    t.add_row("samples/s (SGD steps only)", f"{samples / step_time:,.0f}" if step_time > 0 else "—")
    t.add_row("time", f"{seconds:.2f} s")
    return t


def loss_curve(history: Sequence[Epoch], width: int = 60, height: int = 10) -> RenderableType:
    """Train (●) and validation (○) loss per epoch on a log scale, drawn with characters."""
    train = np.array([e.train_loss for e in history])
    val = np.array([np.nan if e.val_loss is None else e.val_loss for e in history])
    values = np.concatenate([train, val[np.isfinite(val)]])
    values = values[values > 0]
    if len(history) < 2 or not len(values):
        return Text("")
    lo, hi = math.log10(values.min()), math.log10(values.max())
    hi = hi if hi > lo else lo + 1
    cols = min(width, len(history))
    grid = [[" "] * cols for _ in range(height)]

    def row_of(v: float) -> int | None:
        if not (v > 0 and math.isfinite(v)):
            return None
        return height - 1 - round((math.log10(v) - lo) / (hi - lo) * (height - 1))

    for c in range(cols):
        i = min(len(history) - 1, round(c * (len(history) - 1) / max(cols - 1, 1)))
        for series, mark in ((val, "○"), (train, "●")):
            r = row_of(float(series[i]))
            if r is not None:
                grid[r][c] = "◉" if grid[r][c] not in (" ", mark) else mark
    labels = [f"{10 ** (hi - (hi - lo) * r / (height - 1)):9.3g} ┤" for r in range(height)]
    lines = [Text(label + "".join(row)) for label, row in zip(labels, grid, strict=True)]
    axis = Text(" " * 10 + "└" + "─" * cols + f"\n{'':11}epoch 1{'':>{max(cols - 14, 1)}}epoch {history[-1].epoch}")
    return Group(Text("Loss per epoch (log scale): ● train  ○ validation", style="bold"), *lines, axis)


def diagnostics_table(training: Training) -> RenderableType:
    """The run's end diagnostics (history.csv's last row), and what they say in plain words."""
    d = training.final_diagnostics
    assert d is not None
    f = training.net.f
    t = Table(title=f"What reaches the first layer ({d.rows:,} training rows, the last epoch)",
              title_justify="left", title_style="bold", show_header=False)
    t.add_column(style="bold")
    t.add_column(justify="right")
    t.add_row(f"gradient f = {f.label()} lets through, ‖∂ℓ/∂z1‖ / ‖∂ℓ/∂z2‖", fmt_kept(d.kept))
    t.add_row(f"f′(z1) ≈ 0 (below 1% of its largest, {f.lipschitz:g})", f"{d.flat:.0%} of entries")
    if d.dead is not None:
        t.add_row("dead ReLU units (z1 ≤ 0 on every row)", f"{d.dead:.0%}")
    if d.moved_1 is not None and d.moved_2 is not None:
        t.add_row("W1 · W2 moved from the start (‖W − W₀‖ / ‖W₀‖)", f"{fmt_moved(d.moved_1)} · {fmt_moved(d.moved_2)}")
    t.add_row("‖∂ℓ/∂W1‖ · ‖∂ℓ/∂W2‖", f"{d.grad_W1:.3g} · {d.grad_W2:.3g}")
    if d.update_1 is not None and d.update_2 is not None:
        t.add_row("last update ÷ weights, layer 1 · layer 2", f"{d.update_1:.2g} · {d.update_2:.2g}")
    said = training.hints()
    hints = [Text(f"→ {h}", style="yellow") for h in said]
    return Group(t, *hints)


def fmt_kept(value: float | None) -> str:
    """The share of ∂ℓ/∂z2 that reaches z1, as a percentage (it can exceed 100% for c·ReLU)."""
    return "—" if value is None or not math.isfinite(value) else f"{value:.1%}" if value >= 1e-3 else f"{value:.1e}"


def fmt_moved(value: float | None) -> str:
    """How far a layer moved from its start, relative to its size there."""
    return "—" if value is None or not math.isfinite(value) else f"{value:.1%}" if value >= 1e-3 else f"{value:.1e}"


def training_report(training: Training, outcome: Outcome, out: Path | None) -> RenderableType:
    """The end of a run on stdout: the summary table, the loss curve, and where the run was saved."""
    if not training.history:
        return Group()
    parts: list[RenderableType] = [
        training_summary(training.history, training.split.data.task, outcome.seconds, outcome.message,
                         training.test_score),
        loss_curve(training.history),
    ]
    if training.final_diagnostics is not None:
        parts.append(diagnostics_table(training))
    if out is not None:
        saved = [name for name in FILES if (out / name).exists()]
        parts.append(Text(f"saved {', '.join(saved)} in {printable(str(out))}"))
    return Group(*parts)


def sweep_row(index: int, overrides: list[str], settings: str, training: Training,
              outcome: Outcome) -> dict[str, object]:
    """One run of a sweep as the comparison shows it (and sweep.csv holds it): plain values, the
    diagnostics those of the run's end (history.csv's last row)."""
    h = training.history
    last = h[-1] if h else None
    best = best_epoch(h)
    d = training.final_diagnostics
    return {
        "run": index, "overrides": " ".join(overrides), "stopped": outcome.reason,
        "settings": settings,
        "epochs": last.epoch if last else 0,
        "final_train_loss": last.train_loss if last else None,
        "best_val_loss": best.val_loss if best else None,
        "metric": last.metric if last else None,
        "metric_name": metric_key(training.split.data.task),
        "seconds": round(outcome.seconds, 3),
        "kept": d.kept if d else None,
        "flat_fraction": d.flat if d else None,
        "dead_fraction": d.dead if d else None,
        "moved_W1": d.moved_1 if d else None,
        "moved_W2": d.moved_2 if d else None,
    }


def sweep_table(rows: list[dict[str, object]], width: int = 100) -> Table:
    """The comparison of a sweep's runs; the diagnostics of each run's last epoch, as history.csv and
    the summary give them. Under 100 columns the time and W2's movement are left to sweep.csv, so
    that no number is cut."""
    stopped = any(r["stopped"] != "done" for r in rows)
    narrow = width < 100
    headers = ["run", "settings", "best val loss", "metric", "through f", "f′ ≈ 0", "W1 moved",
               *(() if narrow else ("W2 moved", "time")), *(("stopped",) if stopped else ())]
    t = Table(title="Sweep: the same data and seeds, one change at a time", title_justify="left", title_style="bold",
              caption="through f: ‖∂ℓ/∂z1‖ / ‖∂ℓ/∂z2‖, the share of the gradient at z2 that f lets through to z1; "
                      "f′ ≈ 0: entries of f′(z1) below 1% of its largest; both at the last epoch, on the diagnostic "
                      "rows. W moved: ‖W − W at the start‖ / ‖W at the start‖.", caption_justify="left")
    for h in headers:  # the settings fold onto lines of their own; numbers are never cut
        t.add_column(h, overflow="fold", no_wrap=h != "settings", min_width=None if h == "settings" else len(h))

    def num(v: object, fmt: str) -> str:
        return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)

    def share(v: object) -> float | None:
        return v if isinstance(v, float) else None

    for r in rows:
        task: Task = "classification" if r["metric_name"] == metric_key("classification") else "regression"
        loss = r["best_val_loss"] if r["best_val_loss"] is not None else r["final_train_loss"]
        cells = [str(r["run"]), shown(str(r["settings"])), num(loss, ".4g"), fmt_metric(task, share(r["metric"])),
                 fmt_kept(share(r["kept"])), num(r["flat_fraction"], ".0%"), fmt_moved(share(r["moved_W1"]))]
        if not narrow:
            cells += [fmt_moved(share(r["moved_W2"])), f"{r['seconds']:.2f} s"]
        if stopped:
            cells.append(str(r["stopped"]))
        t.add_row(*cells)
    return t
