"""`train --plot` and `train --sweep … --plot`: the files, and the figures through matplotlib's API —
titles, legends, and the numbers drawn, recomputed here independently (forward passes written
out, the principal directions from numpy's SVD, the decision boundary from z3's sign)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from twonet_cli.cli import app
from twonet_cli.core import space
from twonet_cli.data.dataset import from_config
from twonet_cli.data.sizes import load_config
from twonet_cli.train.loop import Training

pytest.importorskip("matplotlib")

from twonet_cli.ui import plots  # needs matplotlib


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, ["train", "-q", *args])


def trained(name: str, *sets: str) -> tuple[Any, Any, Training]:
    cfg, _ = load_config(name, list(sets))
    split = from_config(cfg.data, cfg.shape[0], cfg.shape[2], cfg.loss.name)
    training = Training(cfg.net(), cfg.params(), split, cfg.train)
    for _ in training.run():
        pass
    training.final_diagnostics = training.diagnostics()
    return cfg, split, training


def figure(name: str, *sets: str) -> tuple[Any, Any, Training]:
    cfg, split, t = trained(name, *sets)
    title = plots.run_title(name, cfg, t.history, split.data.task)
    return plots.run_figure(title, t.net, split, t.history, t.initial, t.current, t.hints()), split, t


def titled(fig: Any, words: str) -> Any:
    found = [ax for ax in fig.axes if words in ax.get_title()]
    assert len(found) >= 1, [ax.get_title() for ax in fig.axes]
    return found


def legend_texts(ax: Any) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend is not None else []


def z1_z3(t: Training, p: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z1 = x @ p.W1.T + p.b1
    z2 = t.net.f(z1)
    return z1, z2 @ p.W2.T + p.b2


def test_train_plot_writes_a_png(tmp_path: Path) -> None:
    png = tmp_path / "run.png"
    r = cli("-c", "classification-bce", "--set", "train.epochs=4", "--plot", str(png))
    assert r.exit_code == 0, r.stderr
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 100_000
    assert "wrote the plot to" in r.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["run.png"]  # no temporary file left beside it


@pytest.mark.parametrize("name,magic", [("notes/run.svg", b"<?xml"), ("notes/deeper/run.pdf", b"%PDF")])
def test_plot_writes_svg_and_pdf_and_makes_a_missing_folder(tmp_path: Path, name: str, magic: bytes) -> None:
    """For LaTeX notes: SVG and PDF by the suffix, into a folder made as `train --out` makes its own;
    the same run draws the same bytes (no timestamps in the file)."""
    files = []
    for k in range(2):
        target = tmp_path / str(k) / name
        r = cli("-c", "classification-bce", "--set", "train.epochs=2", "--quiet", "--plot", str(target))
        assert r.exit_code == 0, r.stderr
        files.append(target.read_bytes())
    assert files[0].startswith(magic) and files[0] == files[1]


def test_sweep_plot_overlays_the_runs(tmp_path: Path) -> None:
    png = tmp_path / "sweep.png"
    r = cli("-c", "classification-bce", "--set", "train.epochs=3", "--sweep", "model.f=sigmoid,tanh,relu",
            "--plot", str(png))
    assert r.exit_code == 0, r.stderr
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 50_000


def test_a_2d_classifier_figure_names_every_panel() -> None:
    fig, _, _ = figure("classification-bce", "train.epochs=6")
    assert "classification-bce" in fig.get_suptitle() and "accuracy" in fig.get_suptitle()
    assert "f = tanh" in fig.get_suptitle() and "lr 0.1" in fig.get_suptitle()
    loss = titled(fig, "Loss")[0]
    assert loss.get_xlabel() == "epoch" and {"validation"} <= set(legend_texts(loss))
    assert any(s.startswith("train") for s in legend_texts(loss))
    titled(fig, "accuracy")
    titled(fig, "What reaches the first layer")
    titled(fig, "The input plane x")
    assert len(titled(fig, "z1 = W1 x + b1 (Linear₁)")) == 2  # before and after, in the exercise's notation
    assert len(titled(fig, "z2 = tanh(z1)")) == 2
    regions = titled(fig, "Decision regions")[0]
    assert {"class 0", "class 1", "train", "validation"} <= set(legend_texts(regions))
    assert any("before training" in ax.get_title() for ax in fig.axes)
    assert any("after training" in ax.get_title() for ax in fig.axes)


def test_the_curves_are_the_history() -> None:
    fig, _, t = figure("classification-bce", "train.epochs=6")
    loss = titled(fig, "Loss")[0]
    train, val = loss.get_lines()[:2]
    np.testing.assert_array_equal(train.get_ydata(), [e.train_loss for e in t.history])
    np.testing.assert_array_equal(val.get_ydata(), [e.val_loss for e in t.history])
    metric = next(ax for ax in fig.axes if ax.get_title() == "accuracy")
    train_m, val_m = metric.get_lines()
    np.testing.assert_array_equal(train_m.get_ydata(), [e.train_metric for e in t.history])
    np.testing.assert_array_equal(val_m.get_ydata(), [e.metric for e in t.history])
    reach = titled(fig, "What reaches the first layer")[0]
    kept, moved_1, moved_2 = reach.get_lines()
    np.testing.assert_array_equal(kept.get_xdata(), [e.epoch for e in t.history])  # a gap, not a line, where
    np.testing.assert_array_equal(kept.get_ydata(), [np.nan if e.kept is None else e.kept for e in t.history])
    np.testing.assert_array_equal(moved_1.get_ydata(), [e.moved_1 for e in t.history])  # an epoch was not measured
    np.testing.assert_array_equal(moved_2.get_ydata(), [e.moved_2 for e in t.history])
    assert f"{t.history[-1].kept:.1%}" in reach.get_title()
    assert t.history[0].kept is not None and t.history[-1].kept is not None  # the first and last always measured


def test_linear1_keeps_lines_straight_and_the_plane_whole() -> None:
    """An affine map sends the plane onto a plane: two principal directions hold all of z1's variance,
    each grid line stays a straight line — while f bends them."""
    _, split, t = trained("classification-bce", "train.epochs=3")
    lines = space.grid_lines(np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    x, _ = split.data.take(split.train)
    z1, z2 = space.layer_views(t.net, t.current, lines, x, classify=True)
    assert z1.explained is not None and sum(z1.explained) == pytest.approx(1.0, abs=1e-12)
    for line in z1.lines:
        s = np.linalg.svd(line - line.mean(axis=0), compute_uv=False)
        assert s[1] <= 1e-12 * s[0]
    bent = [np.linalg.svd(line - line.mean(axis=0), compute_uv=False) for line in z2.lines]
    assert max(s[1] / s[0] for s in bent) > 1e-3  # tanh is not linear


def test_z1_points_are_the_principal_projection() -> None:
    _, split, t = trained("multiclass", "train.epochs=2")
    x, _ = split.data.take(split.train)
    z1, _ = z1_z3(t, t.current, x)
    centred = z1 - z1.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    want = centred @ vt[:2].T
    view, _ = space.layer_views(t.net, t.current, [], x, classify=True)
    for k in range(2):  # a principal direction is defined up to its sign
        sign = np.sign(want[:, k] @ view.points[:, k])
        np.testing.assert_allclose(view.points[:, k], sign * want[:, k], rtol=0, atol=1e-10 * np.abs(want).max())
    assert view.explained == pytest.approx(tuple(s[:2] ** 2 / (s**2).sum()), rel=1e-12)


@pytest.mark.parametrize(("name", "sets"), [
    ("classification-bce", ()),  # K = 1, σ: the boundary is z3 = 0
    ("classification-mse", ()),  # two one-hot outputs: the boundary is z3[1] = z3[0]
    ("classification-relu", ("model.hidden=2",)),  # z2 drawn as the units themselves would be, still read along w
])
def test_the_dashed_boundary_in_z2_is_linear2s_decision(name: str, sets: tuple[str, ...]) -> None:
    _, split, t = trained(name, "train.epochs=4", *sets)
    x, _ = split.data.take(split.train)
    _, z2 = space.layer_views(t.net, t.current, [], x, classify=True)
    _, z3 = z1_z3(t, t.current, x)
    margin = z3[:, 0] if z3.shape[1] == 1 else z3[:, 1] - z3[:, 0]
    assert z2.boundary is not None
    clear = np.abs(margin) > 1e-9
    np.testing.assert_array_equal((z2.points[:, 0] > z2.boundary)[clear], (margin > 0)[clear])


def test_decision_regions_are_the_predicted_class() -> None:
    _, split, t = trained("multiclass", "train.epochs=3")
    gx, gy = np.meshgrid(np.linspace(-1, 1, 7), np.linspace(-1, 1, 5))
    y_hat = space.output_grid(t.net, t.current, gx, gy, split.data.prep.standardise)
    x = split.data.prep.standardise(np.column_stack([gx.ravel(), gy.ravel()]))
    _, z3 = z1_z3(t, t.current, x)
    np.testing.assert_array_equal(y_hat.argmax(axis=-1).ravel(), z3.argmax(axis=1))  # softmax keeps the order


def test_regression_figure_fits_and_residuals() -> None:
    fig, split, t = figure("regression", "data.source=sine", "train.lr=2e-5", "train.epochs=5")
    assert "R²" in fig.get_suptitle()
    curve_ax = titled(fig, "Fitted curve")[0]
    curve = next(ln for ln in curve_ax.get_lines() if ln.get_label() == "the network's ŷ(x)")
    xs = np.asarray(curve.get_xdata(), dtype=float)[:, None]
    _, z3 = z1_z3(t, t.current, split.data.prep.standardise(xs))
    np.testing.assert_allclose(curve.get_ydata(), z3[:, 0], rtol=1e-12, atol=1e-12)
    pred = titled(fig, "Predicted against true")[0]
    assert pred.get_xlabel() == "true y" and "ŷ = y (perfect fit)" in legend_texts(pred)
    titled(fig, "Residuals")
    assert not any("input plane" in ax.get_title() for ax in fig.axes)  # one input: no plane to show


def test_a_2d_regression_shows_the_output_over_the_plane() -> None:
    """Fewer, larger panels: with two inputs, ŷ over the plane shows the fit (no separate residual
    row), so the figure is three rows of three, each panel with one thing to teach."""
    fig, _, _ = figure("regression", "train.epochs=3")
    titled(fig, "ŷ over the input plane")
    assert not any("Residuals" in ax.get_title() for ax in fig.axes)
    assert len(titled(fig, "as Linear₂ reads it")) == 2
    assert len([ax for ax in fig.axes if ax.get_title()]) == 9


def test_sweep_figure_has_a_curve_per_run() -> None:
    runs = []
    for f in ("sigmoid", "tanh", "relu"):
        _, _, t = trained("classification-bce", "train.epochs=3", "model.init.scheme=normal", "model.init.std=20",
                          f"model.f={f}")
        runs.append((f"model.f={f}", t.history))
    fig = plots.sweep_figure("a sweep", runs, "classification")
    assert fig.get_suptitle() == "a sweep"
    kept = titled(fig, "Gradient f lets through")[0]
    assert [ln.get_label() for ln in kept.get_lines()] == ["model.f=sigmoid", "model.f=tanh", "model.f=relu"]
    for line, (_, history) in zip(kept.get_lines(), runs, strict=True):  # the plot's data is history's
        np.testing.assert_array_equal(line.get_ydata(), [np.nan if e.kept is None else e.kept for e in history])
    moved = titled(fig, "Does W1 learn?")[0]
    assert [ln.get_ydata()[-1] for ln in moved.get_lines()] == [h[-1].moved_1 for _, h in runs]
    loss = titled(fig, "Loss")[0]
    assert len(loss.get_lines()) == 6  # train and validation per run
    assert "At the last epoch" in [ax.get_title() for ax in fig.axes]


def test_a_bad_plot_path_is_refused_before_training(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    for target, args in ((tmp_path / "x.txt", ()), (tmp_path / "file" / "x.png", ()),
                         (tmp_path / "y.jpg", ("--sweep", "train.lr=0.1,0.2"))):
        r = cli("--set", "train.epochs=2", "--plot", str(target), "--out", str(tmp_path / "run"), *args)
        assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1 and "--plot" in r.stderr, r.stderr
        assert not (tmp_path / "run").exists()


def test_plot_without_matplotlib_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # as if the plot extra were not installed
    for args in ((), ("--sweep", "train.lr=0.1,0.2")):
        r = cli("--set", "train.epochs=2", "--plot", str(tmp_path / "p.png"), *args)
        assert r.exit_code == 2 and "pip install 'twonet[plot]'" in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "p.png").exists()


def test_a_run_that_diverges_at_once_says_no_plot_was_written(tmp_path: Path) -> None:
    r = cli("--set", "train.lr=100", "--plot", str(tmp_path / "p.png"))
    assert r.exit_code == 1 and "nothing to draw" in r.stderr and not (tmp_path / "p.png").exists()
