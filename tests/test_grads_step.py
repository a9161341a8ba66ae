"""`twonet grads --lr η`: one SGD step as the exercise writes it — θ ← θ − η ∂ℓ/∂θ, with the
config's momentum, Nesterov and weight decay as torch.optim.SGD's first step — and the loss after."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from twonet_cli.cli import app
from twonet_cli.core.model import backward, forward, loss
from twonet_cli.data.sizes import load_config


def grads_json(*args: str) -> dict:
    r = CliRunner().invoke(app, ["grads", "--json", *args])
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("sets", [(), ("train.momentum=0.9",), ("train.momentum=0.9", "train.nesterov=true"),
                                  ("train.weight_decay=0.01",), ("train.momentum=0.5", "train.weight_decay=0.1")])
def test_one_step_by_hand(sets: tuple[str, ...]) -> None:
    extra = [a for s in ("train.momentum=0", *sets) for a in ("--set", s)]
    doc = grads_json("-c", "multiclass", "--lr", "0.5", *extra)
    cfg, _ = load_config("multiclass", ["train.momentum=0", *sets])
    p, t, lr = cfg.params(), cfg.train, 0.5
    x, y = np.asarray(cfg.example.x, float), np.eye(3)[np.asarray(cfg.example.y, int)]
    g = backward(cfg.net(), p, forward(cfg.net(), p, x), y).grads
    after = {}
    for (k, theta), (_, grad) in zip(p.items(), g.items(), strict=True):
        d = grad + t.weight_decay * theta  # torch.optim.SGD: d = g + λθ; v₁ = d; Nesterov d + μ v₁
        d = d + t.momentum * d if t.nesterov else d
        after[k] = theta - lr * d
        np.testing.assert_allclose(doc["params_after"][k], after[k], rtol=1e-15, atol=1e-17)
    new = forward(cfg.net(), type(p)(**after), x)
    assert doc["loss_after"] == pytest.approx(float(loss(cfg.net(), new, y)), rel=1e-14)
    assert doc["step"]["lr"] == 0.5 and doc["step"]["momentum"] == t.momentum


def test_one_step_equals_torch_optim_sgd() -> None:
    torch = pytest.importorskip("torch")
    sets = ["train.momentum=0.9", "train.nesterov=true", "train.weight_decay=0.01"]
    doc = grads_json("-c", "classification-bce", "--lr", "0.3", *[a for s in sets for a in ("--set", s)])
    cfg, _ = load_config("classification-bce", sets)
    p = cfg.params()
    W1, b1, W2, b2 = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for _, a in p.items())
    opt = torch.optim.SGD([W1, b1, W2, b2], lr=0.3, momentum=0.9, nesterov=True, weight_decay=0.01)
    x = torch.tensor(np.asarray(cfg.example.x, float).reshape(1, -1))
    y = torch.tensor(np.asarray(cfg.example.y, float).reshape(1, -1))
    opt.zero_grad(set_to_none=True)
    torch.nn.functional.binary_cross_entropy(torch.sigmoid(torch.tanh(x @ W1.T + b1) @ W2.T + b2), y).backward()
    opt.step()
    for k, a in zip(("W1", "b1", "W2", "b2"), (W1, b1, W2, b2), strict=True):
        np.testing.assert_allclose(doc["params_after"][k], a.detach().numpy(), rtol=1e-14, atol=1e-16)
    with torch.no_grad():
        after = torch.nn.functional.binary_cross_entropy(torch.sigmoid(torch.tanh(x @ W1.T + b1) @ W2.T + b2), y)
    assert doc["loss_after"] == pytest.approx(float(after), rel=1e-13)


def test_a_step_lowers_the_loss_and_bad_rates_are_refused() -> None:
    doc = grads_json("-c", "classification-bce", "--lr", "0.01", "--set", "train.momentum=0")
    assert doc["loss_after"] < doc["loss"]
    r = CliRunner().invoke(app, ["grads", "--lr", "-1"])
    assert r.exit_code == 2 and "positive" in r.stderr
    r = CliRunner().invoke(app, ["grads", "--lr", "1e300"])
    assert r.exit_code == 2 and "smaller --lr" in r.stderr and r.stdout == ""
    table = CliRunner().invoke(app, ["grads", "-c", "classification-bce", "--lr", "0.1"]).stdout
    assert "SGD step θ ← θ − η d, η = 0.1" in table and "loss after the step" in table
