"""Optional cross-check against PyTorch autograd (skipped where torch is not installed)."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pytest

from twonet_cli.check.report import random_batch
from twonet_cli.core.activations import Activation
from twonet_cli.core.losses import Loss
from twonet_cli.core.model import Net, backward, forward, init_params, loss

from . import reference as ref

torch = pytest.importorskip("torch")


def torch_act(name: str, z: Any) -> Any:
    F = torch.nn.functional
    return {
        "identity": lambda v: v,
        "relu": lambda v: ref.SCALE * torch.relu(v),
        "leaky_relu": lambda v: F.leaky_relu(v, ref.SLOPE),
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "softplus": F.softplus,
        "softmax": lambda v: torch.softmax(v, dim=-1),
    }[name](z)


def torch_loss(g: str, lo: str, red: str, z3: Any, y: Any) -> Any:
    F = torch.nn.functional
    if lo == "mse":
        return F.mse_loss(torch_act(g, z3), y, reduction=red)
    if lo == "bce":
        return F.binary_cross_entropy(torch.sigmoid(z3), y, reduction=red)
    return F.cross_entropy(z3, y.argmax(dim=1), reduction=red)


@pytest.mark.parametrize("f", ref.ELEMENTWISE)
@pytest.mark.parametrize("g,lo", ref.OUTPUTS)
@pytest.mark.parametrize("red", ["sum", "mean"])
def test_matches_torch_autograd(f: str, g: str, lo: str, red: str) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{f}-{g}-{lo}-{red}".encode()))
    n, m, K, B = 3, 5, 4, 6
    net = Net(Activation(f, scale=ref.SCALE, slope=ref.SLOPE), Activation(g, scale=ref.SCALE, slope=ref.SLOPE),
              Loss(lo, red))  # type: ignore[arg-type]
    p = init_params(n, m, K, rng)
    x, y = random_batch(n, K, lo, B, rng)  # type: ignore[arg-type]
    c = forward(net, p, x)
    grads = backward(net, p, c, y).grads

    t = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    z3 = torch_act(f, torch.tensor(x) @ t["W1"].T + t["b1"]) @ t["W2"].T + t["b2"]
    ell = torch_loss(g, lo, red, z3, torch.tensor(y))
    ell.backward()
    np.testing.assert_allclose(loss(net, c, y), ell.item(), rtol=1e-13)
    for name, a in grads.items():
        np.testing.assert_allclose(a, t[name].grad.numpy(), rtol=1e-11, atol=1e-14, err_msg=name)
