"""One forward and backward pass with everything kept: what `twonet grads` shows (pure numpy)."""

from __future__ import annotations

from dataclasses import dataclass

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


def explain(net: Net, params: Params, x: Array, y: Array) -> Explanation:
    """Run the network on x (B, n) with targets y (B, K) and keep every intermediate."""
    c = forward(net, params, x)
    return Explanation(net, params, y, c, float(loss(net, c, y)), backward(net, params, c, y), jacobians(net, c, y))
