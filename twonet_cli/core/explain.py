"""One forward and backward pass with everything kept: what `twonet grads` shows (pure numpy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import Array
from .jacobians import Jacobians, jacobians
from .model import Backprop, Cache, Net, Params, backward, forward, loss


@dataclass(frozen=True)
class Explanation:
    """Forward cache, reduced loss, backward chain and local Jacobians for a batch x (B, n), y (B, K)."""

    net: Net
    params: Params
    y: Array
    cache: Cache
    loss: float
    back: Backprop
    jac: Jacobians

    @property
    def batch(self) -> int:
        """B, the number of samples."""
        return int(self.y.shape[0])

    def non_finite(self) -> str | None:
        """The first array holding NaN or infinity (named as in ``grads --json``), or None."""
        c, b, j = self.cache, self.back, self.jac
        arrays = {"loss": np.asarray(self.loss), **{f"params.{k}": a for k, a in self.params.items()},
                  **{f"samples.{k}": getattr(c, k) for k in ("z1", "z2", "z3", "y_hat")},
                  **{f"samples.{k}": getattr(b, k) for k in ("dloss_dz3", "dloss_dz2", "dloss_dz1")},
                  **{f"samples.jacobians.{k}": getattr(j, k) for k in ("dz2_dz1", "dyhat_dz3", "dloss_dyhat")},
                  **{f"grads.{k}": a for k, a in b.grads.items()}}
        return next((where for where, a in arrays.items() if not np.isfinite(a).all()), None)


def explain(net: Net, params: Params, x: Array, y: Array) -> Explanation:
    """Run the network on x (B, n) with targets y (B, K) and keep every intermediate."""
    c = forward(net, params, x)
    return Explanation(net, params, y, c, float(loss(net, c, y)), backward(net, params, c, y), jacobians(net, c, y))


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


def sgd_step(e: Explanation, x: Array, lr: float, momentum: float = 0.0, nesterov: bool = False,
             weight_decay: float = 0.0) -> Step:
    """θ ← θ − η d for each parameter, with torch.optim.SGD's first step: d = g + λθ; with momentum
    the buffer starts as v = d, so d = v (or d + μ v with Nesterov)."""
    def direction(theta: Array, g: Array) -> Array:
        d = g + weight_decay * theta if weight_decay else g
        if momentum:
            v = d.copy()  # the momentum buffer of the first step
            d = d + momentum * v if nesterov else v
        return d

    steps = {k: -(lr * direction(theta, g)) for (k, theta), (_, g) in
             zip(e.params.items(), e.back.grads.items(), strict=True)}
    update = Params(**steps)
    params_after = Params(**{k: theta + steps[k] for k, theta in e.params.items()})  # θ − η d, as add_(d, alpha=−η)
    with np.errstate(all="ignore"):
        loss_after = float(loss(e.net, forward(e.net, params_after, x), e.y))
    return Step(lr, momentum, nesterov, weight_decay, update, params_after, loss_after)
