"""The training loop: epochs of SGD steps over a split's batches, with the learning-rate schedule,
evaluation, best parameters and early stopping. Yields records; never prints (pure numpy)."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..config.schema import TrainConfig
from ..core.activations import Array
from ..core.diagnostics import Diagnostics, measure, moved_share
from ..core.losses import Loss
from ..core.metrics import MetricSums, r2
from ..core.model import Net, Params, forward
from ..data.batches import Batches
from ..data.dataset import CHUNK_BYTES, Split
from .sgd import SGD

PROGRESS_PER_EPOCH = 25  # EpochProgress records sent per epoch, at most
DIAGNOSTIC_SHARE = 0.05  # epochs' diagnostics take at most this share of the steps' time (the last epoch always)
DIAGNOSTIC_FREE = 0.01  # seconds of diagnostics always allowed: every epoch of a small network is diagnosed
DIAGNOSTIC_ROWS = 256  # diagnostics use this many training rows (or all, if fewer), spread evenly over them,
#   every epoch and at the run's end alike: about one step's work
PROGRESS_SECONDS = 0.2  # ... and at most one this often (a display redraws 4 times a second)
VAL_KEPT_BYTES = 4 << 20  # validation rows up to this size are gathered once, not every epoch


@dataclass(frozen=True)
class EpochProgress:
    """Part-way through an epoch (sent a few dozen times per epoch at most)."""

    epoch: int
    seen: int  # training rows seen in this epoch
    rows: int  # training rows per epoch
    loss: float  # running mean of the batch losses in this epoch


@dataclass(frozen=True)
class Epoch:
    """One finished epoch: its losses (per element, or per sample for cross-entropy) and metric."""

    epoch: int  # 1-based
    steps: int  # total SGD steps so far
    train_loss: float  # mean batch loss over the epoch (per element, as reduction "mean")
    val_loss: float | None  # on the validation rows, same scale
    metric: float | None  # accuracy or R² on the validation rows; without any, train_metric
    lr: float
    seconds: float  # wall time of this epoch's steps
    samples: int  # training rows processed in this epoch
    best: bool  # validation loss improved (or, without validation, train loss)
    # diagnostics at the epoch's end (core/diagnostics.py) on the run's probe rows (DIAGNOSTIC_ROWS
    # training rows spread evenly, the same every epoch and at the end); None in epochs skipped to keep
    # their cost under DIAGNOSTIC_SHARE of the run (beyond DIAGNOSTIC_FREE)
    grad_W1: float | None = None  # ‖∂ℓ/∂W1‖
    grad_W2: float | None = None  # ‖∂ℓ/∂W2‖
    kept: float | None = None  # ‖∂ℓ/∂z1‖ / ‖∂ℓ/∂z2‖: the share of the gradient at z2 that f lets through
    flat: float | None = None  # share of f′(z1) entries ≈ 0 (below 1% of f's largest slope)
    dead: float | None = None  # share of dead ReLU units
    update_1: float | None = None  # ‖Δ(W1, b1)‖ / ‖(W1, b1)‖ of the epoch's last step
    update_2: float | None = None  # ‖Δ(W2, b2)‖ / ‖(W2, b2)‖ of the epoch's last step
    # every epoch: how far each layer's weights moved from the start, ‖W − W at the start‖ / ‖W at the start‖
    moved_1: float | None = None
    moved_2: float | None = None
    # the running metric of the epoch's steps on the training rows (as Keras reports it), from the forward
    # passes they made: accuracy, or R² from the epoch's squared error (None for a regression loss but MSE)
    train_metric: float | None = None


@dataclass(frozen=True)
class Stopped:
    """Why and where a run ended."""

    reason: str  # "done" | "early_stop" | "diverged"
    epoch: int
    step: int
    message: str


Record = EpochProgress | Epoch | Stopped


def best_epoch(history: Sequence[Epoch]) -> Epoch | None:
    """The epoch with the lowest validation loss (None without validation)."""
    scored = [e for e in history if e.val_loss is not None]
    return min(scored, key=lambda e: e.val_loss if e.val_loss is not None else math.inf) if scored else None


def learning_rate(cfg: TrainConfig, epoch: int) -> float:
    """η for a 1-based ``epoch`` under the configured schedule (constant, step or cosine)."""
    match cfg.schedule:
        case "step":
            return cfg.lr * cfg.gamma ** ((epoch - 1) // cfg.step_size)
        case "cosine":
            return cfg.lr * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / cfg.epochs))
    return cfg.lr


class RunningScore:
    """The accuracy of an epoch's steps, from their own forward passes: each step's logits z3 (and
    targets, unless ``batches`` holds the epoch's in step order) are copied into epoch-long buffers
    (one copy each, no per-step arithmetic) and scored at the epoch's end; an epoch too long to
    buffer is scored batch by batch instead."""

    MAX_ENTRIES = 1 << 18  # rows × K buffered, at most (2 MB per buffer): beyond, each batch scored as it comes

    def __init__(self, net: Net, K: int, rows: int, batches: Batches):
        self.net, self.seen, self.batches = net, 0, batches
        self.sums = MetricSums("classification", K)
        buffered = rows * K <= self.MAX_ENTRIES
        self.z3 = np.empty((rows, K)) if buffered else None
        self.y = np.empty((rows, K)) if buffered and not batches.copies_rows else None

    def add(self, sgd: SGD, b: int, y: Array) -> None:
        """The last step's batch of ``b`` rows and its targets."""
        if self.z3 is not None:
            self.z3[self.seen:self.seen + b] = sgd.last_z3(b)
            if self.y is not None:
                self.y[self.seen:self.seen + b] = y
        elif self.net.g.name == "softmax":  # argmax of ŷ is argmax of z3: no softmax needed
            self.sums.add(sgd.last_z3(b), y)
        else:
            self.sums.add(sgd.last_y_hat(b), y)
        self.seen += b

    def value(self) -> float:
        """Accuracy over the rows seen."""
        if self.z3 is not None:
            z3 = self.z3[:self.seen]  # softmax keeps the order of z3: its argmax needs no exponentials
            y = self.y if self.y is not None else self.batches.epoch_targets
            assert y is not None, "batches that copy the rows hold the epoch's targets"
            self.sums.add(z3 if self.net.g.name == "softmax" else self.net.g(z3), y[:self.seen])
            self.seen = 0
        return self.sums.value()


@dataclass
class Training:
    """A run: a network, its starting parameters, a split and a config; iterate ``run()`` for records."""

    net: Net
    initial: Params  # the parameters the run starts from
    split: Split
    cfg: TrainConfig
    history: list[Epoch] = field(default_factory=list)
    _best: Array | None = field(default=None, init=False, repr=False)  # θ at the best epoch (flat, training dtype)
    test_score: tuple[float, float] | None = None  # (loss, metric) on data.test, after training
    final_diagnostics: Diagnostics | None = None  # at the end, on the probe rows (finish_diagnostics)
    last_diagnostics: tuple[int, Diagnostics] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        rows = len(self.split.train)
        self.batch = rows if self.cfg.batch_size == "full" else min(int(self.cfg.batch_size), rows)
        dtype = np.dtype(self.cfg.dtype)
        labels = self.split.data.prep.labels is not None and self.split.K > 1  # targets one-hot from class labels
        self.sgd = SGD(self.net, self.initial, self.cfg, self.batch, dtype, one_hot=labels)
        self.batches = Batches(self.split, self.batch, dtype, self.cfg.shuffle, self.cfg.seed)
        self._sst: float | None = None
        self._val_chunks: list[tuple[Array, Array]] | None = None  # validation rows kept whole, when small
        # the rows every diagnosis uses, spread evenly over the training rows (a file sorted by class
        # is measured on every class)
        probe = min(DIAGNOSTIC_ROWS, len(self.split.train))
        self.probe = self.split.train[np.linspace(0, len(self.split.train) - 1, probe).astype(np.int64)]

    def _validation(self) -> Iterable[tuple[Array, Array]]:
        """The validation rows in chunks: gathered once and kept when they fit in VAL_KEPT_BYTES of
        memory (every epoch evaluates the same rows), else read afresh each epoch."""
        if self._val_chunks is not None:
            return self._val_chunks
        val, K = self.split.val_data_set, self.split.K
        if val.rows.mapped or len(self.split.val) * (val.in_features + K) * 8 > VAL_KEPT_BYTES:
            return self.split.validation()
        self._val_chunks = list(self.split.validation())
        return self._val_chunks

    def _train_sst(self) -> float:
        """Σ (y − ȳ)² over the training rows, pooled over outputs (R²'s denominator), computed once."""
        if self._sst is None:
            sums = MetricSums("regression", self.split.K)
            for _, y in self.split.training():
                sums.add(y, y)
            self._sst = sums.sst
        return self._sst

    def _running_r2(self, total: float) -> float | None:
        """R² of an epoch's steps from Σ their per-element MSE × rows (``total``): 1 − SSE / SST."""
        if self.net.loss.name != "mse":
            return None
        return float(r2(total * self.split.K, self._train_sst()))

    @property
    def best_params(self) -> Params | None:
        """A float64 copy of the parameters at the best epoch (None before the first)."""
        return None if self._best is None else self.sgd.params_of(self._best)

    @property
    def current(self) -> Params:
        """A float64 copy of the parameters reached so far."""
        return self.sgd.params

    def evaluate(self, chunks: Iterable[tuple[Array, Array]]) -> tuple[float, float]:
        """(loss per element or per sample, metric) over the rows of ``chunks``, in float64, the
        metric accumulated chunk by chunk (correct rows, or R²'s sums) rather than over all rows at once."""
        loss, total, count = Loss(self.net.loss.name, "mean"), 0.0, 0
        p = self.sgd.params
        score = MetricSums(self.split.data.task, self.split.K)
        # softmax keeps the order of z3, so the classes are its argmax; with cross-entropy (computed
        # from z3 alone) ŷ is then never needed, as in the running accuracy of the steps
        classes_of_z3 = self.net.g.name == "softmax" and self.split.data.task == "classification"
        need_y_hat = not (classes_of_z3 and loss.fused(self.net.g))
        for x, y in chunks:
            c = forward(self.net, p, x, output=need_y_hat)
            n = loss.divisor(*y.shape)
            total += float(loss.value(self.net.g, c.z3, y, c.y_hat if need_y_hat else None)) * n
            count += n
            score.add(c.z3 if classes_of_z3 else c.y_hat, y)
        return total / count, score.value()

    def _steps(self, batches: Iterator[tuple[Array, Array]], lr: float, count: int,
               running: RunningScore | None) -> tuple[int, float, int, float]:
        """Up to ``count`` SGD steps on the next batches, stopping at a non-finite loss: (steps taken,
        Σ batch loss per unit × rows, rows, the last batch loss). With ``running``, each step's
        forward pass (before its update) also scores its batch."""
        sgd, loss, K, B = self.sgd, self.net.loss, self.split.K, self.batch
        full = loss.per_unit(1.0, B, K) * B  # a full batch's ℓ, as "per unit" × rows
        taken, total, seen, last = 0, 0.0, 0, 0.0
        # a diverging step overflows: it is detected from ℓ, not from numpy's warnings
        with np.errstate(over="ignore", invalid="ignore"):
            for x, y in itertools.islice(batches, count):
                last = sgd.step(x, y, lr)
                taken += 1
                if not math.isfinite(last):
                    break
                b = len(x)
                total += last * full if b == B else loss.per_unit(last, b, K) * b
                seen += b
                if running is not None:  # accuracy: keep this batch's logits and targets
                    running.add(sgd, b, y)
        return taken, total, seen, last

    def run(self) -> Iterator[Record]:
        """Train epoch by epoch, yielding progress, one Epoch per epoch, and a final Stopped."""
        cfg, sgd, rows = self.cfg, self.sgd, self.batches.rows
        report_every = max(1, math.ceil(rows / self.batch / PROGRESS_PER_EPOCH))
        steps, best, waited, shown = 0, math.inf, 0, -math.inf
        trained = diagnosed = 0.0  # seconds of steps, and of the epochs' diagnostics
        cost: float | None = None  # seconds of one epoch's diagnostics (the last measured)
        has_val = len(self.split.val) > 0
        snapshot = np.empty_like(sgd.theta)
        for epoch in range(1, cfg.epochs + 1):
            lr, total, seen, t0 = learning_rate(cfg, epoch), 0.0, 0, time.perf_counter()
            np.copyto(snapshot, sgd.theta)  # to restore if this epoch diverges
            batches = self.batches.epoch()
            # the training metric is the running one of the steps; R² needs no work per step: the
            # epoch's squared error is its MSE loss, and the targets' spread is fixed
            classify = self.split.data.task == "classification"
            running = RunningScore(self.net, self.split.K, rows, self.batches) if classify else None
            while True:
                taken, loss_sum, rows_seen, last = self._steps(batches, lr, report_every, running)
                if not taken:
                    break
                steps, total, seen = steps + taken, total + loss_sum, seen + rows_seen
                if not math.isfinite(last):
                    if not np.isfinite(sgd.theta).all():
                        sgd.theta[:] = snapshot
                    yield Stopped("diverged", epoch, steps, f"the loss became {last} at epoch {epoch}, step {steps}")
                    return
                if taken == report_every and (now := time.perf_counter()) - shown >= PROGRESS_SECONDS:
                    shown = now
                    yield EpochProgress(epoch, seen, rows, total / seen)
            seconds = time.perf_counter() - t0
            limit = math.sqrt(float(np.finfo(sgd.dtype).max))  # beyond it, a product of two weights overflows
            # |θ| ≤ limit from two reductions (no |θ| array made); a NaN makes both NaN, and the test fail
            if not (sgd.theta.max(initial=0.0) <= limit and -sgd.theta.min(initial=0.0) <= limit):
                sgd.theta[:] = snapshot
                yield Stopped("diverged", epoch, steps, f"the weights grew beyond {limit:.0e} at epoch {epoch}, "
                                                       "where their products overflow")
                return
            val_loss, val_metric = self.evaluate(self._validation()) if has_val else (None, None)
            train_metric = running.value() if running is not None else self._running_r2(total)
            if not has_val:
                val_metric = train_metric
            watched = val_loss if val_loss is not None else total / seen
            improved = watched < best
            if improved:
                best, waited = watched, 0
                if self._best is None:
                    self._best = np.empty_like(sgd.theta)
                np.copyto(self._best, sgd.theta)  # one contiguous copy; made into Params only when saved
            else:
                waited += 1
            trained += seconds
            measured: dict[str, float | None] = {}
            if cost is None:  # before the first: a forward and backward pass on the probe rows, as a step costs
                cost = len(self.probe) / self.batch * seconds / max(1, math.ceil(seen / self.batch))
            stopping = cfg.patience is not None and waited >= cfg.patience
            if epoch == cfg.epochs or stopping or diagnosed + cost <= max(DIAGNOSTIC_SHARE * trained, DIAGNOSTIC_FREE):
                t_diag = time.perf_counter()
                d = self.diagnostics()
                cost = time.perf_counter() - t_diag
                diagnosed += cost
                self.last_diagnostics = epoch, d
                measured = {"grad_W1": d.grad_W1, "grad_W2": d.grad_W2, "kept": d.kept, "flat": d.flat,
                            "dead": d.dead, "update_1": d.update_1, "update_2": d.update_2}
            record = Epoch(epoch, steps, total / seen, val_loss, val_metric, lr, seconds, seen, improved, **measured,
                           moved_1=moved_share(sgd.live.W1, self.initial.W1),
                           moved_2=moved_share(sgd.live.W2, self.initial.W2), train_metric=train_metric)
            self.history.append(record)
            yield record
            if stopping:
                yield Stopped("early_stop", epoch, steps, f"no better validation loss for {cfg.patience} epochs")
                return
        yield Stopped("done", cfg.epochs, steps, f"{cfg.epochs} epochs")

    def diagnostics(self) -> Diagnostics:
        """The lesson's numbers (core/diagnostics.py) at the current parameters (live, in the
        training dtype), on the probe rows, with the last step's update ratios."""
        sgd = self.sgd
        return measure(self.net, sgd.live, self.split.chunks(self.probe, chunk_bytes=CHUNK_BYTES), start=self.initial,
                       update_ratios=sgd.update_ratios())

    def finish_diagnostics(self) -> None:
        """The run's end diagnostics: the last epoch's (one definition: the summary, --json, the sweep
        table and the plots show history.csv's last row), measured now if that epoch was not."""
        if not self.history:
            return
        epoch, d = self.last_diagnostics if self.last_diagnostics is not None else (0, None)
        self.final_diagnostics = d if d is not None and epoch == self.history[-1].epoch else self.diagnostics()

    def hints(self) -> list[str]:
        """What the end diagnostics say, in plain words (none before they are taken)."""
        d = self.final_diagnostics
        return [] if d is None else d.hints(self.net.f.name, self.cfg.lr, self.cfg.schedule != "constant",
                                            self.net.f.can_die)

    def score_test(self) -> None:
        """Score the parameters reached on data.test, once (nothing without a test file)."""
        if self.split.test is not None and len(self.split.test):
            self.test_score = self.evaluate(self.split.testing())
