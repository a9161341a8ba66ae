"""Stochastic gradient descent on the two-layer network (pure numpy; yields records, never prints).

Each step is SPEC.md's loop: ŷ = model(x); ℓ = loss(ŷ, y); backward; θ ← θ − η ∂ℓ/∂θ, with
momentum, Nesterov and L2 weight decay as in ``torch.optim.SGD``. All parameters live in one flat
vector (W1, b1, W2, b2 are views into it), every buffer is allocated once, and every array
operation writes into its buffer: at these sizes allocation costs more than the arithmetic.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .activations import Array
from .config import TrainConfig
from .data import Dataset, metric, targets
from .losses import Loss
from .model import Net, Params, forward

SHUFFLED_COPY_BYTES = 4 << 20  # training sets up to this size are copied in shuffled order each epoch
SHUFFLED_COPY_BATCH = 16  # ... and so are larger ones when batches are this small (per-step cost rules)
SMALL_PRODUCT = 1 << 14  # below this many multiply-adds np.dot's lower call overhead beats matmul


class SGD:
    """Minibatch SGD with buffers for batches of up to ``batch`` rows, in ``dtype``."""

    def __init__(self, net: Net, params: Params, cfg: TrainConfig, batch: int, dtype: Any = np.float64):
        self.net, self.cfg, self.dtype = net, cfg, np.dtype(dtype)
        n, m, K = params.shape
        # θ holds W1ᵀ (n, m), b1, W2ᵀ (m, K), b2 row-major: x W1ᵀ and xᵀ ∂ℓ/∂z1 are then the
        # products BLAS runs fastest here (measured: 15% faster for ∂ℓ/∂W1 at 784 → 256)
        blocks = [params.W1.T, params.b1, params.W2.T, params.b2]
        self.theta = np.concatenate([a.reshape(-1) for a in blocks]).astype(self.dtype)
        self.grad = np.zeros_like(self.theta)
        cuts = np.cumsum([0, *(a.size for a in blocks)])
        shapes = [a.shape for a in blocks]

        def views(flat: Array) -> list[Array]:  # W1ᵀ, b1, W2ᵀ, b2 as views into one flat vector
            return [flat[cuts[i]:cuts[i + 1]].reshape(shapes[i]) for i in range(4)]

        self.W1t, self.b1, self.W2t, self.b2 = views(self.theta)
        self.dW1t, self.db1, self.dW2t, self.db2 = views(self.grad)
        self.velocity = np.zeros_like(self.theta) if cfg.momentum else None
        self.work = np.empty_like(self.theta) if cfg.momentum or cfg.weight_decay else None
        self.x, self.y = self._buffer(batch, n), self._buffer(batch, K)
        # matmul is faster on large products, np.dot has less overhead on tiny ones
        self._mm = np.dot if batch * n * m < SMALL_PRODUCT else np.matmul
        self._fold_lr = not (cfg.momentum or cfg.weight_decay)  # then θ ← θ − (η ∂ℓ/∂θ) in one pass
        self.z1, self.z2, self.dz2, self.scratch = (self._buffer(batch, m) for _ in range(4))
        self.z3, self.y_hat, self.dz3, self.scratch3 = (self._buffer(batch, K) for _ in range(4))

    def _buffer(self, *shape: int) -> Array:
        return np.empty(shape, dtype=self.dtype)

    @property
    def params(self) -> Params:
        """A float64 copy of the current parameters."""
        return Params(*(np.array(a, dtype=np.float64) for a in (self.W1t.T, self.b1, self.W2t.T, self.b2)))

    @property
    def grads(self) -> Params:
        """A float64 copy of the gradient of the last ``backprop`` (times its ``scale``)."""
        return Params(*(np.array(a, dtype=np.float64) for a in (self.dW1t.T, self.db1, self.dW2t.T, self.db2)))

    def step(self, x: Array, y: Array, lr: float) -> float:
        """One SGD step on a batch x (b, n), y (b, K) in this optimiser's dtype; returns ℓ before it.

        A non-finite ℓ leaves θ untouched, for the caller to stop on."""
        if self._fold_lr:  # plain SGD: backpropagate η·∂ℓ/∂z3, so that grad holds η ∂ℓ/∂θ already
            loss = self.backprop(x, y, scale=lr)
            if math.isfinite(loss):
                self.theta -= self.grad
            return loss
        loss = self.backprop(x, y)
        if math.isfinite(loss):
            self._update(lr)
        return loss

    def backprop(self, x: Array, y: Array, scale: float = 1.0) -> float:
        """ℓ of the batch, with scale·∂ℓ/∂θ written into ``grad`` (the views dW1ᵀ, db1, dW2ᵀ, db2)."""
        b = len(x)
        mm = self._mm
        f, g = self.net.f, self.net.g
        z1, z2, dz2, s = self.z1[:b], self.z2[:b], self.dz2[:b], self.scratch[:b]
        z3, y_hat, dz3 = self.z3[:b], self.y_hat[:b], self.dz3[:b]
        mm(x, self.W1t, out=z1)  # z1 = x W1ᵀ + b1
        z1 += self.b1
        f.forward_into(z1, z2)  # z2 = f(z1)
        mm(z2, self.W2t, out=z3)  # z3 = z2 W2ᵀ + b2
        z3 += self.b2
        loss = self.net.loss.grad_into(g, z3, y, y_hat, dz3, self.scratch3[:b])  # ŷ, ℓ, ∂ℓ/∂z3
        if not math.isfinite(loss):
            return loss
        if scale != 1.0:
            dz3 *= scale  # every gradient below is linear in ∂ℓ/∂z3
        mm(z2.T, dz3, out=self.dW2t)  # ∂ℓ/∂W2 = Σ (∂ℓ/∂z3)ᵀ z2ᵀ, stored transposed
        np.add.reduce(dz3, axis=0, out=self.db2)  # ∂ℓ/∂b2 = Σ ∂ℓ/∂z3
        mm(dz3, self.W2t.T, out=dz2)  # ∂ℓ/∂z2 = ∂ℓ/∂z3 · W2
        f.backward_into(z1, z2, dz2, s)  # ∂ℓ/∂z1 = ∂ℓ/∂z2 · ∂z2/∂z1, in place
        mm(x.T, dz2, out=self.dW1t)  # ∂ℓ/∂W1 = Σ (∂ℓ/∂z1)ᵀ xᵀ, stored transposed
        np.add.reduce(dz2, axis=0, out=self.db1)  # ∂ℓ/∂b1 = Σ ∂ℓ/∂z1
        return loss

    def _update(self, lr: float) -> None:
        """θ ← θ − η·d, with d as torch.optim.SGD: g + λθ, then momentum v ← μv + g, d = v or g + μv."""
        g, cfg = self.grad, self.cfg
        if cfg.weight_decay and self.work is not None:
            np.multiply(self.theta, cfg.weight_decay, out=self.work)
            g += self.work
        if self.velocity is not None and self.work is not None:
            v = self.velocity
            v *= cfg.momentum
            v += g
            if cfg.nesterov:
                np.multiply(v, cfg.momentum, out=self.work)
                g += self.work
            else:
                g = v
        np.multiply(g, lr, out=self.work if self.work is not None else g)
        self.theta -= self.work if self.work is not None else g


@dataclass(frozen=True)
class Progress:
    """Part-way through an epoch (sent a few dozen times per epoch at most)."""

    epoch: int
    seen: int  # training rows seen in this epoch
    rows: int  # training rows per epoch
    loss: float  # running mean of the batch losses in this epoch


@dataclass(frozen=True)
class Epoch:
    epoch: int  # 1-based
    steps: int  # total SGD steps so far
    train_loss: float  # mean batch loss over the epoch (per element, as reduction "mean")
    val_loss: float | None  # on the validation rows, same scale
    metric: float | None  # accuracy or R², on validation rows (training rows if there are none)
    lr: float
    seconds: float  # wall time of this epoch's steps
    samples: int  # training rows processed in this epoch
    best: bool  # validation loss improved (or, without validation, train loss)


def best_epoch(history: Sequence[Epoch]) -> Epoch | None:
    """The epoch with the lowest validation loss (None without validation)."""
    scored = [e for e in history if e.val_loss is not None]
    return min(scored, key=lambda e: e.val_loss if e.val_loss is not None else math.inf) if scored else None


@dataclass(frozen=True)
class Stopped:
    reason: str  # "done" | "early_stop" | "diverged"
    epoch: int
    step: int
    message: str


@dataclass
class Training:
    """A run: feed it a dataset split and a config, iterate ``run()`` for records."""

    net: Net
    params: Params
    data: Dataset
    train_rows: Array
    val_rows: Array
    cfg: TrainConfig
    history: list[Epoch] = field(default_factory=list)
    best_params: Params | None = None

    def __post_init__(self) -> None:
        rows = len(self.train_rows)
        self.batch = rows if self.cfg.batch_size == "full" else min(int(self.cfg.batch_size), rows)
        self.sgd = SGD(self.net, self.params, self.cfg, self.batch, np.dtype(self.cfg.dtype))
        K = self.params.shape[2]
        self._in_memory = not self.data.rows.mapped
        if self._in_memory:  # take every training row once, in the run's dtype
            x, raw = self.data.take(self.train_rows)
            self._x = np.ascontiguousarray(x, dtype=self.sgd.dtype)
            self._y = np.ascontiguousarray(targets(raw, K, self.net.loss.name, self.data.task), dtype=self.sgd.dtype)
        # report losses per element (mse, bce) or per sample (cross-entropy), whatever the reduction
        self._mean = Loss(self.net.loss.name, "mean")

    @property
    def current(self) -> Params:
        return self.sgd.params

    def lr(self, epoch: int) -> float:
        c = self.cfg
        match c.schedule:
            case "step":
                return c.lr * c.gamma ** ((epoch - 1) // c.step_size)
            case "cosine":
                return c.lr * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / c.epochs))
        return c.lr

    def _batches(self, order: Array) -> Iterator[tuple[Array, Array]]:
        """The epoch's batches, in ``order``: views of a shuffled copy when the training rows are
        small (cheapest per step), else rows gathered into the optimiser's buffers."""
        K, B = self.params.shape[2], self.batch
        sgd = self.sgd
        if self._in_memory and (self._x.nbytes + self._y.nbytes <= SHUFFLED_COPY_BYTES or B < SHUFFLED_COPY_BATCH):
            x, y = self._x[order], self._y[order]
            for start in range(0, len(order), B):
                yield x[start:start + B], y[start:start + B]
            return
        for start in range(0, len(order), B):
            idx = order[start:start + B]
            b = len(idx)
            if self._in_memory:
                np.take(self._x, idx, axis=0, out=sgd.x[:b], mode="clip")  # idx is in range: skip the check
                np.take(self._y, idx, axis=0, out=sgd.y[:b], mode="clip")
            else:
                x, raw = self.data.take(self.train_rows[np.sort(idx)])
                sgd.x[:b] = x
                sgd.y[:b] = targets(raw, K, self.net.loss.name, self.data.task)
            yield sgd.x[:b], sgd.y[:b]

    def _unit(self, y: Array) -> float:
        """Factor from the configured reduction to "mean": N_config / N_mean for targets y."""
        return self.net.loss.divisor(y) / self._mean.divisor(y)

    def evaluate(self, rows: Array) -> tuple[float, float]:
        """(mean loss, metric) over ``rows``, in chunks, in float64."""
        K, total, count, preds, ys = self.params.shape[2], 0.0, 0, [], []
        p = self.sgd.params
        for x, raw in self.data.chunks(rows):
            y = targets(raw, K, self.net.loss.name, self.data.task)
            c = forward(self.net, p, x)
            n = self._mean.divisor(y)
            total += float(self._mean.value(self.net.g, c.z3, y, c.y_hat)) * n
            count += n
            preds.append(c.y_hat)
            ys.append(y)
        return total / count, metric(self.data.task, np.concatenate(preds), np.concatenate(ys))

    def run(self) -> Iterator[Progress | Epoch | Stopped]:
        cfg, sgd = self.cfg, self.sgd
        rng = np.random.default_rng(cfg.seed)
        rows = len(self.train_rows)
        local = np.arange(rows)
        report_every = max(1, math.ceil(rows / self.batch / 25))
        steps, best, waited = 0, math.inf, 0
        full_unit = self._unit(np.empty((self.batch, self.params.shape[2])))
        for epoch in range(1, cfg.epochs + 1):
            order = rng.permutation(rows) if cfg.shuffle else local
            lr, total, seen, t0 = self.lr(epoch), 0.0, 0, time.perf_counter()
            snapshot = sgd.theta.copy()
            for i, (x, y) in enumerate(self._batches(order), start=1):
                loss = sgd.step(x, y, lr)
                steps += 1
                if not math.isfinite(loss):
                    if not np.isfinite(sgd.theta).all():
                        sgd.theta[:] = snapshot
                    yield Stopped("diverged", epoch, steps, f"the loss became {loss} at epoch {epoch}, step {steps}")
                    return
                b = len(x)
                # the batch loss in "mean" units (per element, or per sample for cross-entropy)
                total += loss * (full_unit if b == self.batch else self._unit(y)) * b
                seen += b
                if i % report_every == 0:
                    yield Progress(epoch, seen, rows, total / seen)
            seconds = time.perf_counter() - t0
            has_val = len(self.val_rows) > 0
            val_loss, val_metric = self.evaluate(self.val_rows) if has_val else (None, None)
            if not has_val:
                val_metric = self.evaluate(self.train_rows)[1]
            watched = val_loss if val_loss is not None else total / seen
            improved = watched < best
            if improved:
                best, waited = watched, 0
                self.best_params = sgd.params
            else:
                waited += 1
            record = Epoch(epoch, steps, total / seen, val_loss, val_metric, lr, seconds, seen, improved)
            self.history.append(record)
            yield record
            if cfg.patience is not None and waited >= cfg.patience:
                yield Stopped("early_stop", epoch, steps, f"no better validation loss for {cfg.patience} epochs")
                return
        yield Stopped("done", cfg.epochs, steps, f"{cfg.epochs} epochs")

