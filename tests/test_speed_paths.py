"""The fast paths give the numbers of the plain ones: the training step's fused ℓ and ∂ℓ/∂z3,
softmax's parts, metrics accumulated chunk by chunk, the streamed epoch of a memory-mapped file,
and the running metric of a run without validation rows."""

from __future__ import annotations

from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np
import pytest

from twonet_cli.core.activations import Activation, _others, softmax_parts
from twonet_cli.core.losses import Loss
from twonet_cli.core.metrics import MetricSums, metric
from twonet_cli.data.batches import Batches
from twonet_cli.data.dataset import from_config
from twonet_cli.data.sizes import load_config
from twonet_cli.train.fused import value_and_dz3
from twonet_cli.train.loop import Training


def exact_cross_entropy(z3: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """ℓ (mean over rows) and ∂ℓ/∂z3 = (softmax − y)/B in 50-digit decimal arithmetic, for one-hot y."""
    with localcontext() as ctx:
        ctx.prec = 50
        B = len(z3)
        total, grad = Decimal(0), np.empty_like(z3)
        for i, (row, target) in enumerate(zip(z3, y.argmax(axis=1), strict=True)):
            terms = [(Decimal(float(v)) - Decimal(float(row[target]))).exp() for v in row]
            s = sum(terms, Decimal(0))
            total += s.ln()
            for j, t in enumerate(terms):
                grad[i, j] = float((t / s - (1 if j == target else 0)) / B)
        return float(total / B), grad


PAIRS = [("cross_entropy", "softmax"), ("bce", "sigmoid"), ("mse", "identity"), ("mse", "sigmoid")]


def logits(rng: np.random.Generator, B: int, K: int, scale: float) -> np.ndarray:
    return rng.normal(size=(B, K)) * scale


@pytest.mark.parametrize("loss,g", PAIRS)
@pytest.mark.parametrize("scale", [0.1, 3.0, 40.0])
def test_fused_value_and_dz3_equal_the_plain_forms(loss: str, g: str, scale: float) -> None:
    rng = np.random.default_rng(0)
    K = 1 if g == "sigmoid" else 4
    z3 = logits(rng, 16, K, scale)
    if loss == "cross_entropy":
        y = np.eye(K)[rng.integers(0, K, 16)]
    elif loss == "bce":
        y = rng.integers(0, 2, (16, K)).astype(float)
    else:
        y = rng.normal(size=(16, K))
    for reduction in ("mean", "sum"):
        L, act = Loss(loss, reduction), Activation(g)  # type: ignore[arg-type]
        y_hat = act(z3)
        for one_hot in (False, True) if loss == "cross_entropy" else (False,):
            value, d = value_and_dz3(L, act, z3, y, y_hat, out=np.empty_like(z3), one_hot=one_hot)
            assert value == pytest.approx(float(L.value(act, z3, y, y_hat)), rel=4e-16, abs=1e-300)
            np.testing.assert_allclose(d, L.dloss_dz3(act, z3, y_hat, y), rtol=4e-16, atol=1e-300)
            # training's η folded in with the ÷ N: the same ℓ, and η times the derivative (to rounding)
            scaled, d_eta = value_and_dz3(L, act, z3, y, y_hat, out=np.empty_like(z3), one_hot=one_hot, scale=0.03)
            assert scaled == value
            np.testing.assert_allclose(d_eta, 0.03 * d, rtol=1e-15, atol=1e-300)


@pytest.mark.parametrize("loss,g", [("bce", "sigmoid"), ("mse", "identity")])
@pytest.mark.parametrize("z", [-800.0, -30.0, -1e-3, 0.0, 2.5, 40.0])
@pytest.mark.parametrize("t", [0.0, 1.0, 0.3])
def test_one_logit_in_python_floats_equals_the_array_forms(loss: str, g: str, z: float, t: float) -> None:
    """Online SGD with one output takes the scalar path: the same formulas (exp may differ by an ulp)."""
    L, act = Loss(loss, "mean"), Activation(g)  # type: ignore[arg-type]
    z3, y = np.array([[z]]), np.array([[t]])
    value, d = value_and_dz3(L, act, z3, y, act(z3), out=np.empty((1, 1)))
    assert value == pytest.approx(float(L.value(act, z3, y)), rel=1e-15, abs=1e-300)
    np.testing.assert_allclose(d, L.dloss_dz3(act, z3, act(z3), y), rtol=1e-15, atol=1e-300)
    _, d_eta = value_and_dz3(L, act, z3, y, act(z3), out=np.empty((1, 1)), scale=0.03)
    np.testing.assert_allclose(d_eta, 0.03 * L.dloss_dz3(act, z3, act(z3), y), rtol=1e-15, atol=1e-300)
    assert value >= 0 and np.isfinite(d).all()


@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_fused_cross_entropy_is_exact_against_high_precision(scale: float) -> None:
    rng = np.random.default_rng(1)
    z3 = logits(rng, 6, 5, scale)
    y = np.eye(5)[rng.integers(0, 5, 6)]
    L, g = Loss("cross_entropy", "mean"), Activation("softmax")
    want, grad = exact_cross_entropy(z3, y)
    for one_hot in (False, True):
        value, d = value_and_dz3(L, g, z3, y, g(z3), out=np.empty_like(z3), one_hot=one_hot)
        assert value == pytest.approx(want, rel=1e-15)
        np.testing.assert_allclose(d, grad, rtol=1e-14, atol=1e-300)  # exact even where softmax rounds to 1


def test_softmax_rest_equals_prefix_plus_suffix_sums() -> None:
    z = np.random.default_rng(2).normal(size=(50, 7)) * 10
    e, S, rest = softmax_parts(z)
    np.testing.assert_allclose(rest, _others(e), rtol=1e-15)  # both sums of the same terms, in other orders
    np.testing.assert_allclose(S[:, 0], e.sum(axis=1), rtol=4e-16)
    assert (e.max(axis=1) == 1.0).all()


@pytest.mark.parametrize("task,K", [("classification", 1), ("classification", 3), ("regression", 2)])
def test_metric_sums_equal_the_metric_over_all_rows(task: str, K: int) -> None:
    rng = np.random.default_rng(3)
    y_hat = rng.normal(size=(100, K)) if task == "regression" else rng.uniform(size=(100, K))
    y = rng.normal(size=(100, K)) if task == "regression" else (
        np.eye(K)[rng.integers(0, K, 100)] if K > 1 else rng.integers(0, 2, (100, 1)).astype(float))
    sums = MetricSums(task, K)  # type: ignore[arg-type]
    for start in range(0, 100, 7):
        sums.add(y_hat[start:start + 7], y[start:start + 7])
    assert sums.value() == pytest.approx(metric(task, y_hat, y), rel=1e-13)  # type: ignore[arg-type]


def test_a_streamed_epoch_visits_every_training_row_once(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    table = np.concatenate([rng.normal(size=(1000, 3)), np.arange(1000.0)[:, None]], axis=1)
    np.save(tmp_path / "rows.npy", table)
    cfg, _ = load_config("regression", [f"data.source={tmp_path / 'rows.npy'}", "data.val_fraction=0.3"])
    split = from_config(cfg.data, *cfg.shape[::2], cfg.loss.name)
    assert split.data.rows.mapped
    for shuffle in (True, False):
        b = Batches(split, 32, np.float64, shuffle, seed=0)
        for chunk_bytes in (1 << 20, 512):  # one chunk, and many
            import twonet_cli.data.batches as batches

            old, batches.MAPPED_CHUNK_BYTES = batches.MAPPED_CHUNK_BYTES, chunk_bytes
            try:
                seen = [(x.copy(), y.copy()) for x, y in b.epoch()]  # batches reuse one buffer
            finally:
                batches.MAPPED_CHUNK_BYTES = old
            ids = np.concatenate([y[:, 0] for _, y in seen])
            assert sorted(ids.tolist()) == split.train.astype(float).tolist()  # each training row once, no val row
            assert all(len(y) == 32 for _, y in seen[:-1])
            x_all = np.concatenate([x for x, _ in seen])
            np.testing.assert_array_equal(x_all, table[ids.astype(int), :3])  # features travel with their row
            assert shuffle or (ids == np.sort(ids)).all()


def test_running_metric_without_validation_is_that_of_the_steps() -> None:
    """R² of a run without validation rows: 1 − (the epoch's summed squared error, from its MSE loss)
    / (the training targets' spread), recomputed here from the targets."""
    cfg, _ = load_config("regression", ["data.val_fraction=0", "train.epochs=2", "loss.reduction=mean"])
    split = from_config(cfg.data, *cfg.shape[::2], cfg.loss.name)
    t = Training(cfg.net(), cfg.params(), split, cfg.train)
    list(t.run())
    y = np.concatenate([y for _, y in split.training()])
    sst = float(((y - y.mean(axis=0)) ** 2).sum())
    e = t.history[-1]
    assert e.metric == pytest.approx(1 - e.train_loss * len(y) / sst, rel=1e-12)
    wrong = 1 - 2 * e.train_loss * len(y) / sst
    assert e.metric != pytest.approx(wrong, rel=1e-6)


def test_relu_into_buffers_is_max_zero_for_every_shape_and_dtype_in_turn() -> None:
    """ReLU into buffers on a full batch, a shorter last batch, another width and float32 in turn,
    and training's ReLU against its kept zeros: each exactly max(z, 0)·c, the zeros never written."""
    rng = np.random.default_rng(3)
    f = Activation("relu", scale=5.0)
    for shape, dtype in [((8, 4), np.float64), ((3, 4), np.float64), ((8, 4), np.float64), ((8, 6), np.float64),
                         ((8, 6), np.float32), ((9, 6), np.float64)]:
        z = rng.normal(size=shape).astype(dtype)
        out = np.full(shape, np.nan, dtype)
        a = f(z, out=out)
        assert a is out and a.dtype == dtype
        np.testing.assert_array_equal(a, np.maximum(z, 0) * dtype(5.0))
    from twonet_cli.core.model import Cache

    kept = Cache.empty(np.empty((8, 0)), 6, 1, np.float64, zeros=True).zeros
    assert kept is not None and not kept.any() and not kept.flags.writeable
    for b in (8, 3):  # a full batch and a shorter last one, against the kept zeros
        z = rng.normal(size=(b, 6))
        np.testing.assert_array_equal(f(z, out=np.empty((b, 6)), zeros=kept[:b]), np.maximum(z, 0) * 5.0)
    assert not kept.any()
