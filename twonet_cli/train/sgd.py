"""Stochastic gradient descent on the two-layer network (pure numpy).

Each step is the exercise's loop: ŷ = model(x); ℓ = loss(ŷ, y); backward; θ ← θ − η ∂ℓ/∂θ, with
momentum, Nesterov and L2 weight decay as in ``torch.optim.SGD``. The forward pass and the chain
below z3 are the core's own (model.forward, model.backward_from_z3), run into buffers allocated
once; ℓ and ∂ℓ/∂z3 come from the speed path of fused.py, with η folded in for plain SGD. All
parameters live in one flat vector θ (W1, b1, W2, b2 are views into it), and so do their gradients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config.schema import TrainConfig
from ..core.activations import Array
from ..core.diagnostics import update_ratio
from ..core.explain import Explanation
from ..core.model import Backprop, Cache, Grads, Net, Params, backward_from_z3, forward, loss
from .fused import value_and_dz3


class SGD:
    """Minibatch SGD with buffers for batches of up to ``batch`` rows, in ``dtype``."""

    def __init__(self, net: Net, params: Params, cfg: TrainConfig, batch: int, dtype: Any = np.float64,
                 one_hot: bool = False):
        self.net, self.cfg, self.dtype, self.one_hot = net, cfg, np.dtype(dtype), one_hot  # one_hot: y are labels
        _, m, K = params.shape
        # θ holds W1ᵀ (n, m), b1, W2ᵀ (m, K), b2 row-major: x W1ᵀ and xᵀ ∂ℓ/∂z1 are then the
        # products BLAS runs fastest here (measured: 15% faster for ∂ℓ/∂W1 at 784 → 256)
        blocks = [params.W1.T, params.b1, params.W2.T, params.b2]
        self.theta = np.concatenate([a.reshape(-1) for a in blocks]).astype(self.dtype)
        self.grad = np.zeros_like(self.theta)
        cuts = np.cumsum([0, *(a.size for a in blocks)])
        shapes = [a.shape for a in blocks]

        def views(flat: Array) -> list[Array]:  # W1, b1, W2, b2 as views into one flat vector
            W1t, b1, W2t, b2 = (flat[cuts[i]:cuts[i + 1]].reshape(shapes[i]) for i in range(4))
            return [W1t.T, b1, W2t.T, b2]

        self._views, self._stepped, self._cuts = views, False, cuts
        self.live = Params(*views(self.theta))  # the parameters as the step changes them
        grads = Grads(*views(self.grad))
        self.velocity = np.zeros_like(self.theta) if cfg.momentum else None
        self.work = np.empty_like(self.theta) if cfg.momentum or cfg.weight_decay else None
        self._fold_lr = not (cfg.momentum or cfg.weight_decay)  # then θ ← θ − (η ∂ℓ/∂θ) in one pass
        # forward's buffers; their x is each step's batch
        self._cache = Cache.empty(np.empty((batch, 0), dtype=self.dtype), m, K, self.dtype, net.g, zeros=True)
        self._backprop = Backprop.empty(batch, grads)
        self._batch = batch
        self._fused = net.loss.fused(net.g)  # ℓ and ∂ℓ/∂z3 come from z3 alone: ŷ is computed only if asked for

    @property
    def last_grads(self) -> Grads:
        """A float64 copy of the last step's ∂ℓ/∂θ (times η for plain SGD, which folds η in)."""
        return self._backprop.grads.astype(np.float64)

    def update_ratios(self) -> tuple[float, float] | None:
        """‖Δθ‖ / ‖θ‖ of the last step for layer 1 (W1, b1) and layer 2 (W2, b2), θ after the step;
        None before any step. Read from the flat vectors: contiguous, no copies."""
        if not self._stepped:
            return None
        delta = self.work if self.work is not None else self.grad  # η d (η is folded into grad for plain SGD)
        layer1 = slice(0, self._cuts[2])  # W1ᵀ then b1, then W2ᵀ and b2
        layer2 = slice(self._cuts[2], None)
        return update_ratio(delta[layer1], self.theta[layer1]), update_ratio(delta[layer2], self.theta[layer2])

    def last_z3(self, b: int) -> Array:
        """z3 of the last step's batch of ``b`` rows, from its forward pass (before the update)."""
        return self._cache.z3[:b]

    def last_y_hat(self, b: int) -> Array:
        """ŷ of the last step's batch of ``b`` rows, from its forward pass (before the update)."""
        if self._fused:
            return self.net.g(self._cache.z3[:b])
        return self._cache.y_hat[:b]

    @property
    def params(self) -> Params:
        """A float64 copy of the current parameters."""
        return self.live.astype(np.float64)

    def params_of(self, theta: Array) -> Params:
        """A float64 copy of the parameters held in a flat vector laid out as θ (a saved copy of it)."""
        return Params(*self._views(theta)).astype(np.float64)

    def step(self, x: Array, y: Array, lr: float) -> float:
        """One SGD step on a batch x (b, n), y (b, K) in this optimiser's dtype; returns ℓ before it.

        A non-finite ℓ leaves θ untouched, for the caller to stop on."""
        b = len(x)
        full = b == self._batch
        c = forward(self.net, self.live, x, out=self._cache if full else self._cache.rows(b), output=not self._fused)
        bp = self._backprop if full else self._backprop.rows(b)
        # plain SGD backpropagates η·∂ℓ/∂z3 (η applied with the reduction's ÷ N), so that grad holds η ∂ℓ/∂θ
        loss, _ = value_and_dz3(self.net.loss, self.net.g, c.z3, y, c.y_hat, out=bp.dloss_dz3, one_hot=self.one_hot,
                                              scale=lr if self._fold_lr else 1.0)
        if not math.isfinite(loss):
            return loss
        backward_from_z3(self.net, self.live, c, bp)  # the core's chain below z3: ∂ℓ/∂θ (η ∂ℓ/∂θ with η folded)
        if self._fold_lr:
            np.subtract(self.theta, self.grad, out=self.theta)
        else:
            self._update(lr)
        self._stepped = True
        return loss

    def _update(self, lr: float) -> None:
        """θ ← θ − η·d, with torch.optim.SGD's direction d (``direction``)."""
        cfg, work = self.cfg, self.work
        assert work is not None, "momentum or weight decay keep a work buffer"
        d = direction(self.grad, self.theta, self.velocity, cfg.momentum, cfg.nesterov, cfg.weight_decay, work)
        np.multiply(d, lr, out=work)
        self.theta -= work


def direction(grad: Array, theta: Array, velocity: Array | None, momentum: float, nesterov: bool,
              weight_decay: float, work: Array) -> Array:
    """torch.optim.SGD's step direction d, in place: g ← ∂ℓ/∂θ + λθ; with momentum, v ← μv + g and
    d = v, or d = g + μv with Nesterov; else d = g. ``grad`` and ``velocity`` are updated in place
    (``work``, the shape of θ, is scratch); returns d, which is one of them."""
    if weight_decay:
        np.multiply(theta, weight_decay, out=work)
        grad += work
    if velocity is None:
        return grad
    velocity *= momentum
    velocity += grad
    if not nesterov:
        return velocity
    np.multiply(velocity, momentum, out=work)
    grad += work
    return grad


@dataclass(frozen=True)
class Step:
    """One SGD step from the explained pass, as torch.optim.SGD takes its first: the update of
    each parameter, the parameters after it, and the loss on the same batch after it."""

    lr: float
    momentum: float
    nesterov: bool
    weight_decay: float
    update: Params  # θ_after − θ = −η d
    params_after: Params
    loss_after: float

    @property
    def finite(self) -> bool:
        """Whether the loss and every parameter after the step are finite."""
        return bool(np.isfinite(self.loss_after)) and all(np.isfinite(a).all() for _, a in self.params_after.items())


def first_step(e: Explanation, x: Array, lr: float, momentum: float = 0.0, nesterov: bool = False,
               weight_decay: float = 0.0) -> Step:
    """θ ← θ − η d for each parameter, as torch.optim.SGD takes its first step: ``direction`` from a
    momentum buffer of zeros (torch starts it as v = d, which is μ·0 + d)."""
    def first(theta: Array, grad: Array) -> Array:
        velocity = np.zeros_like(theta) if momentum else None
        return direction(grad.copy(), theta, velocity, momentum, nesterov, weight_decay, np.empty_like(theta))

    steps = {k: -(lr * first(theta, grad)) for (k, theta), (_, grad) in
             zip(e.params.items(), e.back.grads.items(), strict=True)}
    update = Params(**steps)
    params_after = Params(**{k: theta + steps[k] for k, theta in e.params.items()})  # θ − η d, as add_(d, alpha=−η)
    with np.errstate(all="ignore"):
        loss_after = float(loss(e.net, forward(e.net, params_after, x), e.y))
    return Step(lr, momentum, nesterov, weight_decay, update, params_after, loss_after)

