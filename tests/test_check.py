"""`twonet check`: it passes twonet's own gradients to rounding, and it is proven to fail.

The checker is tested the way HIPS autograd tests its own: feed it gradients that are wrong in
the classic ways and assert it fails, naming the parameter, the entry and the cause.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from twonet_cli.check.numeric import Problem, kinks, numeric_grad
from twonet_cli.check.report import CheckReport, random_batch, run_check, step_curve
from twonet_cli.cli import app
from twonet_cli.core.activations import Activation
from twonet_cli.core.losses import Loss
from twonet_cli.core.model import PARAM_NAMES, Net, Params, backward, forward, init_params
from twonet_cli.data.problem import load_problem
from twonet_cli.data.sizes import load_config

from . import reference as ref

SHIPPED = ["regression", "classification-mse", "classification-bce", "classification-relu", "multiclass",
           "saturated-start"]


def problem(name: str, batch: int = 8, seed: int = 0) -> tuple[Net, Params, Any, Any]:
    cfg = load_config(name)[0]
    m = cfg.model
    x, y = random_batch(m.in_features, m.out_features, cfg.loss.name, batch, np.random.default_rng(seed))
    return cfg.net(), cfg.params(), x, y


def own_grads(net: Net, p: Params, x: Any, y: Any) -> dict[str, Any]:
    return dict(backward(net, p, forward(net, p, x), y).grads.items())


def failing(r: CheckReport) -> set[str]:
    return {row.name for row in r.params + r.jacobians if not r.row_passed(row)}


def kinds(r: CheckReport) -> dict[str, str]:
    return {f.param: f.kind for f in r.findings}


# ---- twonet's own gradients pass, to float64 rounding ---------------------------------------

@pytest.mark.parametrize("name", SHIPPED)
def test_own_gradients_pass_on_every_shipped_config(name: str) -> None:
    r = run_check(*problem(name))
    assert r.passed, failing(r)
    assert r.entries == sum(a.size for _, a in load_config(name)[0].params().items())  # every entry
    for row in r.params:  # errors at the scale of float64 rounding of the largest gradient entry
        c = row.primary
        assert c.abs_err.max() <= 1e-13 * np.abs(c.numeric).max(), row.name


COMBOS = [(f, g, lo) for f in ref.ELEMENTWISE for g, lo in ref.OUTPUTS]


@pytest.mark.parametrize("f,g,lo", COMBOS, ids=["-".join(c) for c in COMBOS])
@settings(max_examples=int(os.environ.get("TWONET_EXAMPLES", 3)), deadline=None)
@given(seed=st.integers(0, 2**31))
def test_own_gradients_pass_on_random_combinations(f: str, g: str, lo: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m, B = (int(v) for v in rng.integers(1, 7, size=3))
    K = int(rng.integers(2, 5))
    net = Net(Activation(f, scale=5.0), Activation(g), Loss(lo, "mean"))  # type: ignore[arg-type]
    p = init_params(n, m, K, rng)
    x, y = random_batch(n, K, lo, B, rng)  # type: ignore[arg-type]
    r = run_check(net, p, x, y)
    assert r.passed, failing(r)


# ---- the numerical references themselves ------------------------------------------------------

def test_batched_references_equal_naive_loops() -> None:
    """The column trick and the factorised W1 complex step agree with one full forward pass per entry."""
    net, p, x, y = problem("multiclass", batch=5)
    pb = Problem(net, p, x, y)
    theta = dict(p.items())
    for name in PARAM_NAMES:

        def loss_at(t: Any, name: str = name) -> Any:
            return ref.total_loss("tanh", "softmax", "cross_entropy", "mean", **{**theta, name: t}, X=x, Y=y)

        naive_cs = ref.complex_step(loss_at, theta[name])
        np.testing.assert_allclose(numeric_grad(pb, name, "complex"), naive_cs, rtol=1e-12, atol=1e-16)
        np.testing.assert_allclose(numeric_grad(pb, name, "complex", direct=True), naive_cs, rtol=1e-12, atol=1e-16)
        naive_cd = ref.central_difference(loss_at, theta[name], h=1e-5)
        np.testing.assert_allclose(numeric_grad(pb, name, "central"), naive_cd, rtol=1e-5, atol=1e-9)


def test_kinks_are_counted_not_failed() -> None:
    """A unit with z1 = 1e-9: the central step crosses ReLU's kink and must not be judged there."""
    net, p, x, y = problem("regression", batch=3)
    W1, b1 = p.W1.copy(), p.b1.copy()
    b1[0] = 1e-9 - x[0] @ W1[0]  # z1[0, 0] = 1e-9 > 0, well inside the step h ≈ 6e-6
    p = Params(W1, b1, p.W2, p.b2)
    assert 0 < forward(net, p, x).z1[0, 0] < 1e-8
    pb = Problem(net, p, x, y)
    mask = kinks(pb)
    assert mask["b1"][0] and mask["W1"][0].any() and not mask["W2"].any()
    r = run_check(net, p, x, y)
    assert r.passed and r.kinks >= 1 + int(mask["W1"][0].sum()) - 1
    # without the kink mask the central difference at b1[0] is off by about half the slope
    cd = numeric_grad(pb, "b1", "central")
    assert abs(cd[0] - own_grads(net, p, x, y)["b1"][0]) > 1e-3 * abs(cd[0])


# ---- the checker is proven to fail ------------------------------------------------------------

def test_missing_relu_scale_is_named() -> None:
    net, p, x, y = problem("regression")
    g = own_grads(net, p, x, y)
    r = run_check(net, p, x, y, grads={**g, "W1": g["W1"] / 5, "b1": g["b1"] / 5})
    assert not r.passed and failing(r) == {"W1", "b1"}
    assert kinds(r) == {"W1": "factor", "b1": "factor"}
    assert all("ReLU scale is missing" in f.message for f in r.findings)


@pytest.mark.parametrize("name,factor,words", [
    ("multiclass", 8.0, "summed over the batch where the loss is the mean (×8)"),  # B = 8
    ("classification-bce", 8.0, "summed over the batch where the loss is the mean (×8)"),  # B·K = 8
    ("regression", 1 / 8, "averaged (÷8) where the loss is the sum"),
])
def test_wrong_reduction_is_named(name: str, factor: float, words: str) -> None:
    net, p, x, y = problem(name)
    r = run_check(net, p, x, y, grads={k: v * factor for k, v in own_grads(net, p, x, y).items()})
    assert not r.passed and failing(r) == set(PARAM_NAMES)
    (finding,) = r.findings
    assert finding.param == "all" and words in finding.message


def test_mse_factor_two_is_named() -> None:
    net, p, x, y = problem("classification-mse")
    r = run_check(net, p, x, y, grads={k: v / 2 for k, v in own_grads(net, p, x, y).items()})
    assert "the 2 of the MSE derivative 2(ŷ − y) is missing" in r.findings[0].message


def test_sign_error_is_named() -> None:
    net, p, x, y = problem("classification-relu")
    g = own_grads(net, p, x, y)
    r = run_check(net, p, x, y, grads={**g, "W2": -g["W2"]})
    assert failing(r) == {"W2"} and kinds(r) == {"W2": "sign"} and "sign flipped" in r.findings[0].message


def test_transposed_w_is_named() -> None:
    net, p, x, y = problem("regression")
    g = own_grads(net, p, x, y)
    r = run_check(net, p, x, y, grads={**g, "W1": g["W1"].T})  # (2, 16) given for (16, 2)
    assert not r.passed and "W1" in failing(r) and kinds(r) == {"W1": "transposed"}
    # a square W: same shape, so the values must reveal it
    net = Net(Activation("tanh"), Activation("sigmoid"), Loss("bce", "mean"))
    p = init_params(3, 3, 3, np.random.default_rng(1))
    x, y = random_batch(3, 3, "bce", 4, np.random.default_rng(2))
    g = own_grads(net, p, x, y)
    r = run_check(net, p, x, y, grads={**g, "W1": g["W1"].T})
    assert failing(r) == {"W1"} and kinds(r) == {"W1": "transposed"}


def test_swapped_w1_w2_is_named() -> None:
    net, p, x, y = problem("regression")
    g = own_grads(net, p, x, y)
    r = run_check(net, p, x, y, grads={**g, "W1": g["W2"], "W2": g["W1"]})
    assert failing(r) >= {"W1", "W2"} and kinds(r) == {"W1": "swapped", "W2": "swapped"}
    net = Net(Activation("relu"), Activation("identity"), Loss("mse", "sum"))  # n = m = K: same shapes
    p = init_params(2, 2, 2, np.random.default_rng(3))
    x, y = random_batch(2, 2, "mse", 4, np.random.default_rng(4))
    g = own_grads(net, p, x, y)
    r = run_check(net, p, x, y, grads={**g, "W1": g["W2"], "W2": g["W1"]})
    assert kinds(r) == {"W1": "swapped", "W2": "swapped"} and "equals ∂ℓ/∂W2" in r.findings[0].message


def test_single_wrong_entry_is_named() -> None:
    net, p, x, y = problem("multiclass")
    g = own_grads(net, p, x, y)
    W1 = g["W1"].copy()
    W1[7, 1] += 1e-3
    r = run_check(net, p, x, y, grads={**g, "W1": W1})
    assert failing(r) == {"W1"} and kinds(r) == {"W1": "entries"} and "W1[7, 1]" in r.findings[0].message
    (top,) = r.params[0].primary.top_failures(5)
    assert top[0] == (7, 1)


def test_a_wrong_stage_fails_its_jacobian_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken derivative in twonet's own code: the gradient rows fail and the stage is named."""
    net, p, x, y = problem("regression")
    original = Activation.derivative

    def forgot_scale(self: Activation, z: Any, a: Any, out: Any = None) -> Any:
        return np.multiply(z.real > 0, 1.0, out=out) if self.name == "relu" else original(self, z, a, out)

    monkeypatch.setattr(Activation, "derivative", forgot_scale)
    r = run_check(net, p, x, y)
    assert failing(r) == {"W1", "b1", "∂z2/∂z1"}

    monkeypatch.setattr(Activation, "derivative", original)
    def forgot_the_2(self: Loss, y_hat: Any, y: Any, out: Any = None, complement: Any = None) -> Any:
        return np.divide(y_hat - y, self.divisor(*y.shape), out=out)

    monkeypatch.setattr(Loss, "dloss_dyhat", forgot_the_2)
    r = run_check(net, p, x, y)
    assert "∂ℓ/∂ŷ" in failing(r) and {"W1", "W2", "b1", "b2"} <= failing(r)


# ---- precision and step size --------------------------------------------------------------

def test_float32_runs_and_shows_larger_errors() -> None:
    net, p, x, y = problem("classification-bce")
    r64, r32 = run_check(net, p, x, y), run_check(net, p, x, y, dtype=np.float32)
    assert r32.dtype == "float32" and r32.passed
    err = {r.dtype: max(float(row.primary.rel_err[row.primary.counted].max()) for row in r.params) for r in (r64, r32)}
    assert err["float32"] > 1e4 * err["float64"]


def test_step_curve_is_a_u() -> None:
    net, p, x, y = problem("classification-mse")
    curve = {h: med for h, _, med in step_curve(net, p, x, y)}
    best = min(curve, key=curve.__getitem__)
    assert 1e-7 <= best <= 1e-3  # near ε^(1/3) ≈ 6e-6
    assert curve[1e-1] > 100 * curve[best] and curve[1e-13] > 100 * curve[best]


# ---- the command line ----------------------------------------------------------------------

def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["check", *args])


def test_cli_check_with_no_arguments_passes() -> None:
    r = run()
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "PASS: all 129 entries" in r.stdout and "complex step" in r.stdout and "float64 rounding" in r.stdout


def test_cli_check_names_a_typical_mistake(tmp_path: Path) -> None:
    cfg, source = load_config("regression")
    p, x, y = load_problem(cfg, None, None, None, source)  # check's batch: the config's example
    g = own_grads(cfg.net(), p, x, y)
    path = tmp_path / "mine.npz"
    np.savez(path, **{**g, "W1": g["W1"] / 5, "b1": g["b1"] / 5})
    r = run("--grads", str(path))
    assert r.exit_code == 1, r.stdout + r.stderr
    assert "FAIL: W1, b1" in r.stdout and "the ReLU scale is missing" in r.stdout
    doc = json.loads(run("--grads", str(path), "--json").stdout)
    assert doc["passed"] is False and {f["param"] for f in doc["findings"]} == {"W1", "b1"}
    assert doc["params"][0]["complex_step"]["failures"][0]["rel_error"] == pytest.approx(2 / 3)
    assert doc["batch"]["origin"] == "the config's example" and doc["batch"]["x"] == x.tolist()


def test_cli_check_json_float32_and_steps() -> None:
    r = run("-c", "multiclass", "--json", "--dtype", "float32", "--steps")
    assert r.exit_code == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["dtype"] == "float32" and doc["entries"] == 2 * 64 + 64 + 64 * 3 + 3 and len(doc["steps"]) == 7
    steps = run("--steps").stdout
    assert "◀ best" in steps and "ε^(1/3)" in steps


def test_cli_check_bad_grads_file_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"W1": [[1]], "b1": [1]}))
    r = run("--grads", str(path))
    assert r.exit_code == 2 and "missing W2, b2" in r.stderr and r.stdout == ""


# ---- the batch is the user's -----------------------------------------------------------------

@pytest.mark.parametrize("name", SHIPPED)
def test_grads_json_then_check_grads_passes_on_every_shipped_config(name: str, tmp_path: Path) -> None:
    """`twonet grads -c X --json > g.json` then `twonet check -c X --grads g.json`: the same batch, so it passes."""
    doc = CliRunner().invoke(app, ["grads", "-c", name, "--json"])
    assert doc.exit_code == 0, doc.stderr
    path = tmp_path / "g.json"
    path.write_text(doc.stdout)
    r = CliRunner().invoke(app, ["check", "-c", name, "--grads", str(path)])
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "the --grads document" in r.stdout  # the batch and parameters inside it: the example's, here


def test_without_an_example_the_random_batch_is_named_and_in_the_json(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: {in_features: 3, hidden: 4, out_features: 2, f: tanh, g: sigmoid}\nloss: {name: bce}\n")
    r = CliRunner().invoke(app, ["check", "-c", str(cfg), "--batch", "5"])
    assert r.exit_code == 0 and "B = 5, random (seed 0" in r.stdout, r.stdout
    doc = json.loads(CliRunner().invoke(app, ["check", "-c", str(cfg), "--batch", "5", "--json"]).stdout)
    batch = doc["batch"]
    assert np.shape(batch["x"]) == (5, 3) and np.shape(batch["y"]) == (5, 2)
    assert set(batch["params"]) == set(PARAM_NAMES)
    # grads on that very batch gives the gradients check verified
    x, y = (tmp_path / "x.json"), (tmp_path / "y.json")
    x.write_text(json.dumps(batch["x"]))
    y.write_text(json.dumps(batch["y"]))
    g = json.loads(CliRunner().invoke(app, ["grads", "-c", str(cfg), "-x", str(x), "-y", str(y), "--json"]).stdout)
    assert g["params"] == batch["params"]


def test_gradients_of_another_batch_get_a_hint(tmp_path: Path) -> None:
    net, p, x, y = problem("multiclass", seed=5)
    path = tmp_path / "other.npz"
    np.savez(path, **own_grads(net, p, x, y))  # gradients of a random batch, not of the config's example
    r = CliRunner().invoke(app, ["check", "-c", "multiclass", "--grads", str(path)])
    assert r.exit_code == 1 and "different batch or parameters" in r.stdout


def test_float32_gradients_are_named_as_such(tmp_path: Path) -> None:
    cfg, source = load_config("multiclass")
    p, x, y = load_problem(cfg, None, None, None, source)
    path = tmp_path / "f32.npz"
    np.savez(path, **{k: v.astype(np.float32) for k, v in own_grads(cfg.net(), p, x, y).items()})
    r = CliRunner().invoke(app, ["check", "-c", "multiclass", "--grads", str(path)])
    assert r.exit_code == 1 and "float32 numbers" in r.stdout and "--dtype float32" in r.stdout


def test_transposed_w1_shows_a_dash_and_failures_0_counts_once(tmp_path: Path) -> None:
    cfg, source = load_config("regression")
    p, x, y = load_problem(cfg, None, None, None, source)
    g = own_grads(cfg.net(), p, x, y)
    path = tmp_path / "t.npz"
    np.savez(path, **{**g, "W1": g["W1"].T, "W2": -g["W2"]})
    out = CliRunner().invoke(app, ["check", "-c", "regression", "--grads", str(path), "--failures", "0"]).stdout
    w1 = next(line for line in out.splitlines() if line.strip().startswith("W1 "))
    assert "—" in w1 and "FAIL" in w1
    assert out.count("more entries of W2") == 1  # once, not once per reference
    assert "sign flipped in ∂ℓ/∂W2 alone" in out


def test_check_grads_of_a_grads_json_document_uses_its_own_batch_and_parameters(tmp_path: Path) -> None:
    """An instructor's trap: a `grads --json` output of another batch or another seed is checked on
    the batch and parameters inside it, and an explicit other batch is refused, not misdiagnosed."""
    runner = CliRunner()
    doc = tmp_path / "g.json"
    made = runner.invoke(app, ["grads", "-c", "multiclass", "--set", "model.init.seed=1", "-x", "0.1,0.2;0.3,-0.4",
                               "-y", "2;0", "--json"])
    assert made.exit_code == 0, made.stderr
    doc.write_text(made.stdout)
    r = runner.invoke(app, ["check", "-c", "multiclass", "--grads", str(doc), "--json"])
    assert r.exit_code == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["passed"] and "the --grads document" in report["batch"]["origin"]
    other = runner.invoke(app, ["check", "-c", "multiclass", "--grads", str(doc), "-x", "0.5,0.5", "-y", "1"])
    assert other.exit_code == 2 and "another batch" in other.stderr, other.stderr
    wrong_net = runner.invoke(app, ["check", "-c", "classification-bce", "--grads", str(doc)])
    assert wrong_net.exit_code == 2 and "another network" in wrong_net.stderr, wrong_net.stderr
    broken = json.loads(made.stdout)
    broken["grads"]["b2"] = [5 * v for v in broken["grads"]["b2"]]  # a planted ×5 still fails, on the right batch
    doc.write_text(json.dumps(broken))
    failed = runner.invoke(app, ["check", "-c", "multiclass", "--grads", str(doc)])
    assert failed.exit_code == 1 and "×5" in failed.stdout, failed.stdout


@pytest.mark.parametrize(("W1", "b1", "W2", "b2", "x", "y"), [
    ([[1, 2], [-2, -2], [0, 0]], [1, -1, -2], [[-1, 0, -1]], [2], [[-1, 1], [1, -3], [2, -3]], [[-3], [1], [-2]]),
    ([[1, 1], [2, -1], [-1, -1]], [0, -1, -2], [[-1, 0, 0]], [-1], [[-1, 2], [-3, -3], [-3, 0]], [[-3], [-2], [-3]]),
])
def test_a_gradient_that_cancels_to_zero_up_to_rounding_is_not_a_mistake(W1: Any, b1: Any, W2: Any, b2: Any,
                                                                         x: Any, y: Any) -> None:
    """Small integers, a mean over 3 samples: ∂ℓ/∂b2 = (2/3)(a + b − c) is 0 in exact arithmetic and
    −4.4e-16 in float64. twonet's own gradients, given back as --grads, pass: the entry agrees to
    the rounding of its terms, and no diagnosis ('only 1 entry wrong', '×−1.1') is made of noise."""
    cfg, _ = load_config("course")
    net = cfg.net()
    p = Params(*(np.array(a, dtype=float) for a in (W1, b1, W2, b2)))
    x, y = np.array(x, dtype=float), np.array(y, dtype=float)
    g = own_grads(net, p, x, y)
    assert g["b2"][0] != 0 and abs(g["b2"][0]) < 1e-15  # the case: a cancellation, not a zero
    r = run_check(net, p, x, y, grads=g)
    assert r.passed and r.findings == []
    wrong = run_check(net, p, x, y, grads={**g, "b2": g["b2"] + 1e-3})
    assert not wrong.passed  # a real error in the same entry still fails
