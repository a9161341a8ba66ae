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
