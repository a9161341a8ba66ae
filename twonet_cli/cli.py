"""The `twonet` command line: thin commands that parse, load, call the core and render."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
import typer.exceptions
from rich.console import Console
from rich.markup import escape

from . import DEFAULT_CONFIG
from .console import err_console, error_line, reported
from .errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_MISMATCH, OutputError, TwonetError

if TYPE_CHECKING:  # numpy, the config schema and the readers load inside the commands: --help and --version need none
    from .config import schema as config
    from .core.activations import Array
    from .core.explain import Explanation
    from .core.model import Params
    from .data.preprocessing import Preprocessing
    from .inference import Model

EXIT_CODES = (
    "Exit codes: 0 success · 1 a check found a mismatch (or training diverged) · "
    "2 bad input (usage, config, data, shapes), with one line on stderr · 130 interrupted."
)

app = typer.Typer(
    name="twonet",
    help=f"Train and inspect the two-layer network x → Linear₁ → f → Linear₂ → g → loss.\n\n{EXIT_CODES}",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

ConfigOpt = Annotated[
    Optional[str],
    typer.Option("--config", "-c", metavar="NAME|FILE", help="Config file, or the name of a shipped config "
                 f"(default: {DEFAULT_CONFIG}). See `twonet configs`.", show_default=False),
]
SetOpt = Annotated[
    Optional[list[str]],
    typer.Option("--set", "-s", metavar="KEY=VALUE",
                 help="Override a config key, e.g. --set model.hidden=8 (repeatable)."),
]
InputOpt = Annotated[
    Optional[str],
    typer.Option("--input", "-x", metavar="VALUES|FILE", show_default=False,
                 help="Inline '0.5,-1.2' (rows separated by ';') or a .csv/.npy/.json file. "
                 "Default: the config's example."),
]
TargetOpt = Annotated[
    Optional[str],
    typer.Option("--target", "-y", metavar="VALUES|FILE", show_default=False,
                 help="Same forms as --input; class indices for cross_entropy."),
]
ParamsOpt = Annotated[
    Optional[str],
    typer.Option("--params", "-p", metavar="FILE", help="W1, b1, W2, b2 from a .npz/.json/.yaml file. "
                 "Default: the config's params or init.", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object to stdout instead of tables.")]
RunOpt = Annotated[
    Optional[Path],
    typer.Option("--run", "-r", metavar="DIR", show_default=False,
                 help="A run saved by `twonet train --out DIR`: its config, params and preprocessing "
                 "(feature columns, standardisation, class labels)."),
]
BestOpt = Annotated[bool, typer.Option("--best", help="With --run: the run's best.npz instead of params.npz.")]

MAX_FULL = 4096  # --full shows ∂z2/∂z1 as a matrix for layers up to this size
def version_callback(value: bool) -> None:
    """--version: print it and exit."""
    if value:
        from importlib.metadata import version

        typer.echo(f"twonet {version('twonet')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=version_callback, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Train and inspect the two-layer network x → Linear₁ → f → Linear₂ → g → loss."""


@app.command(epilog=EXIT_CODES)
def grads(
    config_: ConfigOpt = None,
    input_: InputOpt = None,
    target: TargetOpt = None,
    params: ParamsOpt = None,
    set_: SetOpt = None,
    run: RunOpt = None,
    best: BestOpt = False,
    json_: JsonOpt = False,
    precision: Annotated[int, typer.Option(min=0, max=17, help="Digits after the decimal point.")] = 6,
    max_size: Annotated[int, typer.Option(min=1, max=10**9, help="Elide arrays with more entries than this.")] = 64,
    full: Annotated[bool, typer.Option("--full", help="Show diagonal Jacobians as full matrices.")] = False,
    sample: Annotated[int, typer.Option(min=0, help="Which sample of a batch the per-sample tables show.")] = 0,
    lr: Annotated[Optional[float], typer.Option(
        "--lr", metavar="η", show_default=False,
        help="Also take one SGD step θ ← θ − η ∂ℓ/∂θ (with the config's train.momentum, nesterov and "
             "weight_decay, as torch.optim.SGD's first step) and show the update and the loss after it.")] = None,
) -> None:
    """Show one forward and backward pass: z1, z2, z3, ŷ, the loss, every Jacobian and gradient."""
    from .config import files as config_files
    from .core.explain import explain, sgd_step
    from .ui.grads import View, explanation

    with reported():
        cfg, path, p, x, y = _problem(run, best, config_, set_, input_, target, params)
        if sample >= x.shape[0]:
            raise TwonetError(f"--sample: {sample} is out of range for a batch of {x.shape[0]}")
        if full and cfg.model.hidden > MAX_FULL:
            raise TwonetError(f"--full: ∂z2/∂z1 would be a {cfg.model.hidden}×{cfg.model.hidden} matrix; "
                              "without --full its diagonal is shown")
        e = explain(cfg.net(), p, x, y)
        _refuse_non_finite(e)
        if lr is not None and not (lr > 0 and lr < float("inf")):
            raise TwonetError(f"--lr: the learning rate η must be a positive number, got {lr:g}")
        t = cfg.train
        step = sgd_step(e, x, lr, t.momentum, t.nesterov, t.weight_decay) if lr is not None else None
        if step is not None and not step.finite:
            raise TwonetError(f"--lr: the step with η = {step.lr:g} leaves float64's range (the loss after it is "
                              f"{step.loss_after}); try a smaller --lr")
        if json_:
            from .ui import jsondoc as json

            sys.stdout.write(json.dumps(json.grads_json(e, step)))
            return
        console = Console(highlight=False)
        view = View(precision, max_size, full, sample, width=console.width)
        console.print(explanation(e, view, config_files.config_name(path), cfg.description, step))


class DType(str, Enum):
    """The precisions `check` runs in."""

    float64 = "float64"
    float32 = "float32"


@app.command(epilog=EXIT_CODES)
def check(
    config_: ConfigOpt = None,
    grads: Annotated[Optional[str], typer.Option(
        "--grads", "-g", metavar="FILE", show_default=False,
        help="Check these gradients (W1, b1, W2, b2 in a .npz/.json/.yaml, e.g. from a hand-written backward "
             "pass) instead of twonet's, and name the mistake.")] = None,
    input_: InputOpt = None,
    target: TargetOpt = None,
    params: ParamsOpt = None,
    set_: SetOpt = None,
    run: RunOpt = None,
    best: BestOpt = False,
    dtype: Annotated[DType, typer.Option(help="Run the whole check in this precision.")] = DType.float64,
    steps: Annotated[bool, typer.Option("--steps", help="Also print the central-difference error against "
                                        "the step size h (the truncation/rounding U-curve).")] = False,
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Size of the random batch used when there is "
                                       "no --input and the config has no example.")] = 8,
    failures: Annotated[int, typer.Option(min=0, help="Failing entries listed per parameter.")] = 3,
    json_: JsonOpt = False,
) -> None:
    """Check every gradient entry against the complex step and central differences; name what is wrong."""
    import numpy as np

    from .check.report import run_check, step_curve
    from .config import files as config_files
    from .core.explain import explain
    from .formats import arrays as inputs
    from .ui import jsondoc as json
    from .ui.check import check_report, step_table

    with reported():
        if run is not None and input_ is not None:
            cfg, path, p, x, y = _problem(run, best, config_, set_, input_, target, params)
            origin = f"--input (with {run}'s preprocessing)"
        else:
            cfg, path = _config(run, best, config_, set_)
            p, x, y, origin = _check_batch(cfg, input_, target, params if params or run is None else
                                           str(run / ("best.npz" if best else "params.npz")), path, batch)
        _refuse_non_finite(explain(cfg.net(), p, x, y))  # as grads: no verdict on numbers float64 cannot hold
        user = inputs.load_param_arrays(grads, "--grads", document_key="grads") if grads else None
        precision = np.dtype(dtype.value)
        r = run_check(cfg.net(), p, x, y, dtype=precision, grads=user, source=grads or "twonet's backward pass")
        curve = step_curve(cfg.net(), p, x, y, dtype=precision) if steps else None
        if json_:
            sys.stdout.write(json.dumps(json.check_json(r, failures, curve, batch=json.batch_json(origin, p, x, y))))
        else:
            console = Console(highlight=False)
            console.print(check_report(r, config_files.config_name(path), cfg.description, p.shape,
                                       f"B = {x.shape[0]}, {origin}", failures))
            if curve is not None:
                console.print(step_table(curve, r.dtype))
    raise typer.Exit(0 if r.passed else EXIT_MISMATCH)


def _refuse_non_finite(e: Explanation) -> None:
    """No NaN or infinity printed as a result: name the first array where it appears."""
    where = e.non_finite()
    if where is not None:
        raise TwonetError(f"{where} is not finite: the inputs or parameters are too large for float64")


def _config(run: Path | None, best: bool, config_: str | None, set_: list[str] | None) -> tuple[config.Config, Path]:
    """The config of --run (which takes no --config or --set), else of --config and --set."""
    from .data.sizes import load_config
    if run is None:
        if best:
            raise TwonetError("--best: needs --run")
        return load_config(config_, set_ or ())
    if config_ is not None or set_:
        raise TwonetError("--run: takes the run's own config; --config and --set cannot be combined with it")
    from .train.runs import load_run

    r = load_run(run, best)
    return r.config, run / "config.yaml"


def _problem(run: Path | None, best: bool, config_: str | None, set_: list[str] | None, input_: str | None,
             target: str | None, params: str | None) -> tuple[config.Config, Path, Params, Array, Array]:
    """(config, its path, params, x, y) for `grads` and `check`. With --run, --input holds raw rows
    as the training file had them (the run's feature columns are picked and standardised) and
    --target class values as the file had them."""
    import numpy as np

    from .data.problem import load_problem
    from .data.targets import as_targets
    from .formats import arrays as inputs
    if run is None or input_ is None:
        cfg, path = _config(run, best, config_, set_)
        if run is not None and params is None:
            params = str(run / ("best.npz" if best else "params.npz"))
        return cfg, path, *load_problem(cfg, input_, target, params, path)
    from .data.stream import open_rows
    from .data.targets import class_targets
    from .inference import features, labelled

    model, _ = _model(run, best, None, None, params)
    cfg, path = _config(run, best, None, None)
    stream = open_rows(input_, "--input", model.prep.in_features)
    if target is None:  # the rows of a labelled table carry their targets
        x_parts, y_parts = zip(*labelled(model, stream, None), strict=True)
        x, raw = np.concatenate(x_parts), np.concatenate(y_parts)
    else:
        x, raw = np.concatenate(list(features(model, stream))), inputs.load_array(target, "--target")
    K, loss = model.K, cfg.loss.name
    if model.prep.labels is not None:
        raw = class_targets(model.prep.class_indices(raw.reshape(-1), "--target"), K, loss)
    return cfg, path, model.params, x, as_targets(raw, K, x.shape[0], loss, "--target")


def _check_batch(cfg: config.Config, input_: str | None, target: str | None, params: str | None, path: Path,
                 batch: int) -> tuple[Params, Array, Array, str]:
    """(params, x, y, where the batch came from) for `check`: --input, else the config's example (the
    batch `grads` shows), else a seeded random batch that the report names."""
    import numpy as np

    from .check.report import random_batch
    from .config import files as config_files
    from .data.problem import load_problem
    from .formats import arrays as inputs

    if input_ is not None or cfg.example is not None:
        p, x, y = load_problem(cfg, input_, target, params, path)
        return p, x, y, "--input" if input_ is not None else "the config's example"
    if target is not None:
        raise TwonetError(f"--target: needs --input ({config_files.config_name(path)} has no example)")
    p = inputs.load_params(params, cfg.shape) if params else cfg.params()
    seed = cfg.model.init.seed
    x, y = random_batch(cfg.shape[0], cfg.shape[2], cfg.loss.name, batch,
                        np.random.default_rng(seed))
    return p, x, y, f"random (seed {seed}, x ~ N(0, 1)): pass --input to check your own"


@app.command(epilog=EXIT_CODES)
def train(
    config_: ConfigOpt = None,
    set_: SetOpt = None,
    print_config: Annotated[bool, typer.Option("--print-config", help="Print the resolved config and exit.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="DIR", show_default=False,
                   help="Save params.npz, best.npz, config.yaml, history.csv and preprocessing.json here "
                   "(atomically); use the run with predict, evaluate, grads and check --run DIR.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite a run already in --out.")] = False,
    params: Annotated[Optional[str], typer.Option("--params", "-p", metavar="FILE", show_default=False,
                      help="Start from W1, b1, W2, b2 in a .npz/.json/.yaml file.")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print a JSON summary to stdout instead of tables.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    plot: Annotated[Optional[Path], typer.Option("--plot", metavar="FILE.png", show_default=False,
                    help="Save loss curves (and decision regions for 2-D classification); needs the plot extra.")
                    ] = None,
    sweep: Annotated[Optional[list[str]], typer.Option(
        "--sweep", metavar="KEY=V1,V2", show_default=False,
        help="Train every combination of these values (repeatable), each as a run with those --set "
             "overrides, then compare them; --out DIR keeps each run in a subfolder, with sweep.csv.")] = None,
) -> None:
    """Train with SGD on the config's data, showing progress; save the run with --out."""
    if sweep:
        _sweep(config_, set_ or [], sweep, out, force, params, json_, quiet, plot)
        return
    from . import runner
    from .config import files as config_files
    from .config import schema as config
    from .data.dataset import from_config
    from .data.sizes import load_config
    from .formats import arrays as inputs
    from .train.loop import Training
    from .train.runs import RunDir
    from .ui import jsondoc as json
    from .ui import plots
    from .ui.train import training_report

    with reported():
        cfg, path = load_config(config_, set_ or ())
        if params:
            inputs.load_params(params, cfg.shape)  # refused now if it does not fit the network
            cfg = config.with_params(cfg, os.path.abspath(params))
        if print_config:
            sys.stdout.write(cfg.to_yaml())
            return
        if plot is not None:
            runner.check_plot_path(plot)
            plots.require_matplotlib()
        split = from_config(cfg.data, cfg.shape[0], cfg.shape[2], cfg.loss.name)
        training = Training(cfg.net(), cfg.params(), split, cfg.train)
        run_dir = RunDir(out, force) if out is not None else None
        try:
            outcome = runner.run_training(training, cfg, run_dir, quiet)
        finally:
            if run_dir is not None:
                run_dir.close()
        if outcome.reason != "diverged":
            training.score_test()
        if training.history:
            training.final_diagnostics = training.diagnostics()  # all training rows, the parameters reached
        if plot is not None and not training.history:
            err_console.print(f"--plot: no epoch finished, so nothing to draw; {escape(str(plot))} not written",
                              highlight=False)
        elif plot is not None:
            title = plots.run_title(config_files.config_name(path), cfg, training.history, split.data.task, set_ or ())
            _write_plot(plot, plots.run_figure(title, training.net, split, training.history, training.params,
                                               training.current, training.hints()))
        if json_:
            sys.stdout.write(json.dumps(json.train_json(training, outcome, out)))
        else:
            Console(highlight=False).print(training_report(training, outcome, out))
        runner.report_stop(outcome, cfg.train.lr, out)
    raise typer.Exit(runner.training_exit(outcome))


def _write_plot(path: Path, figure: Any) -> None:
    """Render a figure to ``path`` (PNG), atomically."""
    from .formats.write import atomic_write
    from .ui.plots import png

    try:
        atomic_write(path, png(figure))
    except OSError as e:
        raise OutputError(f"--plot: cannot write '{path}': {e.strerror or e}") from None
    err_console.print(f"wrote the plot to {escape(str(path))}", highlight=False)


def _model(run: Path | None, best: bool, config_: str | None, set_: list[str] | None,
           params: str | None) -> tuple[Model, str]:
    """The network to apply, and how to name it: a saved run, or a config (+ params), whose
    preprocessing is fitted again on its data exactly as training did."""
    from .config import files as config_files
    from .data.sizes import load_config
    from .formats import arrays as inputs
    from .inference import Model
    from .train.runs import load_run

    if run is not None:
        if config_ is not None or set_:
            raise TwonetError("--run: takes the run's own config; --config and --set cannot be combined with it")
        r = load_run(run, best)
        p = inputs.load_params(params, r.config.shape) if params else r.params
        prep = r.prep if r.prep is not None else _fitted_prep(r.config)
        return Model(r.config.net(), p, prep), str(run)
    if best:
        raise TwonetError("--best: needs --run")
    cfg, path = load_config(config_, set_ or ())
    p = inputs.load_params(params, cfg.shape) if params else cfg.params()
    return Model(cfg.net(), p, _fitted_prep(cfg)), config_files.config_name(path)


def _fitted_prep(cfg: config.Config) -> Preprocessing:
    from .data.dataset import from_config

    n, _, K = cfg.shape
    return from_config(cfg.data, n, K, cfg.loss.name).prep


@app.command(epilog=EXIT_CODES)
def predict(
    input_: Annotated[str, typer.Option("--input", "-x", metavar="VALUES|FILE", show_default=False,
                      help="Rows to predict: inline '0.5,-1.2;1,0' or a .csv/.npy/.json file (streamed). A table "
                      "as wide as the training file, or with its header, has its feature columns picked.")],
    run: RunOpt = None,
    best: BestOpt = False,
    config_: ConfigOpt = None,
    params: ParamsOpt = None,
    set_: SetOpt = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="FILE", show_default=False,
                   help="Write the predictions to a .csv, .npy or .json file (default: CSV on stdout).")] = None,
) -> None:
    """Predict ŷ (and the class label of a classifier) for new rows, with the run's preprocessing."""
    from .data.stream import open_rows
    from .formats.write import TABLE_SUFFIXES, TableWriter, check_out_file
    from .inference import predict as predicted

    with reported():
        if out is not None:
            check_out_file(out, "--out", TABLE_SUFFIXES)
        model, _ = _model(run, best, config_, set_, params)
        stream = open_rows(input_, "--input", model.prep.in_features)
        blocks = predicted(model, stream)  # columns checked before anything is written
        with TableWriter(out, model.columns()) as writer:
            for block in blocks:
                writer.write(block)
        if out is not None:
            err_console.print(f"wrote {writer.rows:,} prediction(s) to {escape(str(out))}", highlight=False)


@app.command(epilog=EXIT_CODES)
def evaluate(
    input_: Annotated[Optional[str], typer.Option(
        "--input", "-x", metavar="VALUES|FILE", show_default=False,
        help="Labelled rows (features and target columns, by header name or at the training file's "
             "positions), or features alone with --target. Default: the config's data.test.")] = None,
    target: TargetOpt = None,
    run: RunOpt = None,
    best: BestOpt = False,
    config_: ConfigOpt = None,
    params: ParamsOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Score a trained network on labelled rows: accuracy, per-class precision/recall/F1, the
    confusion matrix and log-loss for classifiers; R², MAE, RMSE for regression."""
    from .data.sizes import load_config
    from .data.stream import open_rows
    from .inference import evaluate as scores
    from .inference import labelled
    from .ui import jsondoc as json
    from .ui.evaluate import evaluation

    with reported():
        model, name = _model(run, best, config_, set_, params)
        if input_ is None:
            if target is not None:
                raise TwonetError("--target: needs --input")
            cfg = (load_config(str(run / "config.yaml"))[0] if run is not None else
                   load_config(config_, set_ or ())[0])
            if cfg.data.test is None:
                raise TwonetError("--input: needed (labelled rows to score), since the config has no data.test")
            input_ = cfg.data.test
        n = model.prep.in_features
        stream = open_rows(input_, "--input", n if target is not None else None)
        targets = open_rows(target, "--target", 1) if target is not None else None
        report = scores(model, labelled(model, stream, targets))
        if json_:
            sys.stdout.write(json.dumps(json.evaluate_json(report, model)))
        else:
            Console(highlight=False).print(evaluation(report, model, name, input_))


def _sweep(config_: str | None, set_: list[str], specs: list[str], out: Path | None, force: bool,
           params: str | None, json_: bool, quiet: bool, plot: Path | None) -> None:
    """`train --sweep`: the runs one after another, one progress line each, then the comparison."""
    import csv
    import io as text_io

    from . import runner
    from .config import files as config_files
    from .config import schema as config
    from .data.dataset import from_config
    from .data.sizes import load_config
    from .formats import arrays as inputs
    from .formats.write import atomic_write
    from .sweep import combinations, run_name
    from .train.loop import Training
    from .train.runs import RunDir
    from .ui import jsondoc as json
    from .ui import plots
    from .ui.train import sweep_row, sweep_table

    with reported():
        if plot is not None:
            runner.check_plot_path(plot)
            plots.require_matplotlib()
        runs = combinations(specs)
        loaded = [load_config(config_, [*set_, *o]) for o in runs]  # every config checked first
        configs = [c for c, _ in loaded]
        if out is not None:
            if out.exists() and not out.is_dir():
                raise TwonetError(f"--out: '{out}' exists and is not a directory")
            if (out / "sweep.csv").exists() and not force:
                raise TwonetError(f"--out: '{out}' already holds a sweep (sweep.csv); choose another directory "
                                  "or pass --force")
        if out is not None:
            try:
                out.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise TwonetError(f"--out: cannot use '{out}': {e.strerror or e}") from None
        rows, docs, curves, code = [], [], [], 0
        for i, (overrides, cfg) in enumerate(zip(runs, configs, strict=True), start=1):
            if params:
                inputs.load_params(params, cfg.shape)
                cfg = config.with_params(cfg, os.path.abspath(params))
            split = from_config(cfg.data, cfg.shape[0], cfg.shape[2], cfg.loss.name)
            training = Training(cfg.net(), cfg.params(), split, cfg.train)
            where = out / run_name(i, overrides) if out is not None else None
            run_dir = RunDir(where, force) if where is not None else None
            err_console.print(f"run {i}/{len(runs)}: {escape(' '.join(overrides))}", highlight=False)
            try:
                outcome = runner.run_training(training, cfg, run_dir, quiet)
            finally:
                if run_dir is not None:
                    run_dir.close()
            if training.history:
                training.final_diagnostics = training.diagnostics()
            rows.append(sweep_row(i, overrides, training, outcome))
            curves.append((" ".join(overrides), training.history))
            docs.append({"run": i, "overrides": overrides, "out": str(where) if where else None,
                         **json.train_json(training, outcome, where)})
            code = max(code, runner.training_exit(outcome))
            if outcome.reason == "interrupted":
                break
        if out is not None:
            buf = text_io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(rows[0].keys())
            w.writerows([list(r.values()) for r in rows])
            atomic_write(out / "sweep.csv", buf.getvalue().encode())
        if plot is not None:
            base = config_files.config_name(loaded[0][1]) + (f" + {' '.join(set_)}" if set_ else "")
            title = (f"{base}: sweep of {' × '.join(specs)} "
                     f"({len(curves)} runs, the same data and seed)")
            _write_plot(plot, plots.sweep_figure(title, curves, split.data.task))
        if json_:
            sys.stdout.write(json.dumps({"sweep": list(specs), "runs": docs}))
        else:
            Console(highlight=False).print(sweep_table(rows))
    raise typer.Exit(code)


@app.command()
def configs() -> None:
    """List the shipped configs (use a name with --config)."""
    from rich.table import Table

    from .config import files as config_files
    from .data.sizes import load_config

    with reported():
        t = Table("name", "description", title="Shipped configs", title_justify="left")
        for name, path in config_files.shipped_configs().items():
            cfg, _ = load_config(str(path))
            t.add_row(name, escape(cfg.description))
        Console().print(t)


def run() -> None:
    """Entry point of the console script: usage errors too become one line and exit code 2."""
    if len(sys.argv) == 1:  # a bare `twonet` shows the help
        sys.argv.append("--help")
    for stream in (sys.stdout, sys.stderr):  # a terminal that cannot show σ or ŷ gets escapes, not a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        code = app(prog_name="twonet", standalone_mode=False)
        sys.stdout.flush()
    except OSError as e:  # stdout is full (/dev/full), or a pipe closed early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to write there
        error_line(f"cannot write the output: {e.strerror or e}")
        code = EXIT_BAD_INPUT
    except typer.exceptions.TyperException as e:  # Typer's usage errors (bad option, bad value)
        ctx = getattr(e, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        error_line(f"{e.format_message()}{hint}")
        code = e.exit_code
    except (typer.Abort, KeyboardInterrupt) as e:  # a stop signal outside a run (loading, reporting)
        cause = e.__context__ if isinstance(e, typer.Abort) else e
        err_console.print("Interrupted.")
        code = 128 + int(getattr(cause, "signum", 2)) if cause is not None else EXIT_INTERRUPTED
    sys.exit(code if isinstance(code, int) else 0)

if __name__ == "__main__":
    run()

