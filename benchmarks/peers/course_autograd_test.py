"""Peer of `twonet check --impl`: the course's own test, as its test scripts write it — import the
student's mlp.py, run forward, the loss and backward, and compare each gradient with torch
autograd on nn.Linear layers holding the same weights (`‖yours − autograd‖ < 1e-3`) — over the same
38 cases twonet runs (every f × g × loss the skeleton allows at three sizes, and two more).

    python benchmarks/peers/course_autograd_test.py tests/impls/correct_torch.py
"""

from __future__ import annotations

import importlib.util
import sys
from collections import OrderedDict

import torch
import torch.nn.functional as F  # noqa: N812 (PyTorch's own convention)
from torch import nn

ACT = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "identity": nn.Identity}


def main() -> None:
    spec = importlib.util.spec_from_file_location("mlp", sys.argv[1])
    assert spec is not None and spec.loader is not None
    mlp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mlp)
    combos = [(f, g, "mse") for f in ACT for g in ACT] + [(f, "sigmoid", "bce") for f in ACT]
    sizes = [(2, 20, 5, 10), (3, 4, 2, 1), (4, 3, 1, 6)]
    cases = [(f, g, loss, *size) for size in sizes for f, g, loss in combos] + [("relu", "identity", "mse", 2, 6, 3, 4),
                                                                                ("relu", "relu", "mse", 2, 6, 3, 4)]
    passed = 0
    torch.manual_seed(0)
    for f, g, loss, n, m, K, B in cases:
        net = mlp.MLP(n, m, f, m, K, g)
        x = torch.randn(B, n)
        y = torch.rand(B, K) if loss == "bce" else torch.randn(B, K)
        net.clear_grad_and_cache()
        y_hat = net.forward(x)
        _, dJdy_hat = (mlp.mse_loss if loss == "mse" else mlp.bce_loss)(y, y_hat)
        net.backward(dJdy_hat)
        autograd = nn.Sequential(OrderedDict([("linear1", nn.Linear(n, m)), ("f", ACT[f]()),
                                              ("linear2", nn.Linear(m, K)), ("g", ACT[g]())]))
        autograd.linear1.weight.data = net.parameters["W1"]
        autograd.linear1.bias.data = net.parameters["b1"]
        autograd.linear2.weight.data = net.parameters["W2"]
        autograd.linear2.bias.data = net.parameters["b2"]
        y_hat_autograd = autograd(x)
        J = F.mse_loss(y_hat_autograd, y) if loss == "mse" else F.binary_cross_entropy(y_hat_autograd, y)
        autograd.zero_grad()
        J.backward()
        ok = [(autograd.linear1.weight.grad.data - net.grads["dJdW1"]).norm() < 1e-3,
              (autograd.linear1.bias.grad.data - net.grads["dJdb1"]).norm() < 1e-3,
              (autograd.linear2.weight.grad.data - net.grads["dJdW2"]).norm() < 1e-3,
              (autograd.linear2.bias.grad.data - net.grads["dJdb2"]).norm() < 1e-3]
        passed += all(bool(v) for v in ok)
    print(f"{passed} of {len(cases)} cases pass")


if __name__ == "__main__":
    main()
