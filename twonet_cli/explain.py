"""One forward and backward pass with everything kept: what `twonet grads` shows (pure numpy)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .activations import Array
from .model import Backprop, Cache, Jacobians, Net, Params, backward, forward, jacobians, loss


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
        return int(self.y.shape[0])

    def as_json(self) -> dict[str, Any]:
        """Plain lists and floats: params, loss, grads, and one record per sample."""
        c, b, j = self.cache, self.back, self.jac
        samples = [
            {
                "x": c.x[i].tolist(),
                "y": self.y[i].tolist(),
                "z1": c.z1[i].tolist(),
                "z2": c.z2[i].tolist(),
                "z3": c.z3[i].tolist(),
                "y_hat": c.y_hat[i].tolist(),
                "dloss_dz3": b.dloss_dz3[i].tolist(),
                "dloss_dz2": b.dloss_dz2[i].tolist(),
                "dloss_dz1": b.dloss_dz1[i].tolist(),
                "jacobians": {
                    "dz2_dz1": j.dz2_dz1[i].tolist(),
                    "dyhat_dz3": j.dyhat_dz3[i].tolist(),
                    "dloss_dyhat": j.dloss_dyhat[i].tolist(),
                },
            }
            for i in range(self.batch)
        ]
        n, m, K = self.params.shape
        net = self.net
        return {
            "network": {
                "in_features": n,
                "hidden": m,
                "out_features": K,
                "f": net.f.label(),
                "g": net.g.label(),
                "loss": net.loss.name,
                "reduction": net.loss.reduction,
            },
            "params": {k: a.tolist() for k, a in self.params.items()},
            "loss": self.loss,
            "grads": {k: a.tolist() for k, a in self.back.grads.items()},
            "samples": samples,
        }


def explain(net: Net, params: Params, x: Array, y: Array) -> Explanation:
    """Run the network on x (B, n) with targets y (B, K) and keep every intermediate."""
    c = forward(net, params, x)
    return Explanation(net, params, y, c, float(loss(net, c, y)), backward(net, params, c, y), jacobians(net, c, y))
