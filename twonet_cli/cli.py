"""The `twonet` command line: thin commands that parse options, delegate, and render."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
import typer.exceptions
from rich.console import Console

from . import options as opt
from .console import err_console, error_line, reported, shown
from .errors import EXIT_BAD_INPUT, EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_MISMATCH, TwonetError

EXIT_CODES = (
    "Exit codes: 0 success · 1 a check found a mismatch (or training diverged) · "
    "2 bad input (usage, config, data, shapes), with one line on stderr · 130 interrupted · "
    "141 stdout closed early."
)
MAX_FULL = 4096  # --full shows ∂z2/∂z1 as a matrix for layers up to this size

app = typer.Typer(
    name="twonet",
    help=f"Train and inspect the two-layer network x → Linear₁ → f → Linear₂ → g → loss.\n\n{EXIT_CODES}",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


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
    config_: opt.ConfigOpt = None, input_: opt.InputOpt = None, target: opt.TargetOpt = None,
    params: opt.ParamsOpt = None, set_: opt.SetOpt = None, run: opt.RunOpt = None, best: opt.BestOpt = False,
    json_: opt.JsonOpt = False, precision: opt.PrecisionOpt = 6, max_size: opt.MaxSizeOpt = 64,
    full: opt.FullOpt = False, sample: opt.SampleOpt = 0, lr: opt.LrOpt = None, format_: opt.FormatOpt = None,
) -> None:
    """Show one forward and backward pass: z1, z2, z3, ŷ, the loss, every Jacobian and gradient."""
    from . import load
    from .config.files import config_name
    from .core.explain import explain
    from .ui.grads import View, explanation

    with reported():
        cfg, path, p, x, y = load.problem(run, best, config_, set_, input_, target, params)
        if sample >= x.shape[0]:
            raise TwonetError(f"--sample: {sample} is out of range for a batch of {x.shape[0]}")
        if full and cfg.model.hidden > MAX_FULL:
            raise TwonetError(f"--full: ∂z2/∂z1 would be a {cfg.model.hidden}×{cfg.model.hidden} matrix; "
                              "without --full its diagonal is shown")
        if lr is not None and not (lr > 0 and lr < float("inf")):
            raise TwonetError(f"--lr: the learning rate η must be a positive number, got {lr:g}")
        e = _finite(explain(cfg.net(), p, x, y))
        step = None
        if lr is not None:
            from .train.sgd import first_step

            t = cfg.train
            step = first_step(e, x, lr, t.momentum, t.nesterov, t.weight_decay)
        if step is not None and not step.finite:
            raise TwonetError(f"--lr: the step with η = {step.lr:g} leaves float64's range (the loss after it is "
                              f"{step.loss_after}); try a smaller --lr")
        if json_:
            from .ui import jsondoc

            return _print_json(jsondoc.grads_json(e, step))
        if format_ is not None:
            from .ui.key import answer_key

            sys.stdout.write(answer_key(e, config_name(path), format_.value, precision,
                                        lr if lr is not None else cfg.train.lr))
            return
        console = Console(highlight=False)
        view = View(precision, max_size, full, sample, width=console.width)
        console.print(explanation(e, view, config_name(path), cfg.description, step))


@app.command(epilog=EXIT_CODES)
def check(
    config_: opt.ConfigOpt = None, grads: opt.GradsOpt = None, input_: opt.InputOpt = None,
    target: opt.TargetOpt = None, params: opt.ParamsOpt = None, set_: opt.SetOpt = None, run: opt.RunOpt = None,
    best: opt.BestOpt = False, dtype: opt.DTypeOpt = opt.DType.float64, steps: opt.StepsOpt = False,
    batch: opt.BatchOpt = 8, failures: opt.FailuresOpt = 3, json_: opt.JsonOpt = False, impl: opt.ImplOpt = None,
    timeout: opt.TimeoutOpt = 60.0, memory: opt.MemoryOpt = 4096,
) -> None:
    """Check every gradient entry against the complex step and central differences; name what is wrong.
    With --impl, run your own forward and backward code and check every quantity it computes."""
    if impl is not None:
        others = [grads, input_, target, params, run, steps or None, json_ or None, best or None,
                  dtype if dtype != opt.DType.float64 else None, batch if batch != 8 else None,
                  failures if failures != 3 else None]
        raise typer.Exit(_check_impl(impl, config_, set_, others, timeout, memory))
    import numpy as np

    from . import load
    from .check.report import run_check, step_curve
    from .config.files import config_name
    from .core.explain import explain
    from .formats.arrays import load_param_arrays
    from .ui.check import check_report, step_table

    with reported():
        document = load.grads_document(grads) if grads else None  # a `grads --json` output: its own batch
        cfg, path, p, x, y, origin = load.check_problem(run, best, config_, set_, input_, target, params, batch,
                                                        document)
        if document is not None and grads is not None:
            load.check_against(document, cfg, p, x, y, grads)
        _finite(explain(cfg.net(), p, x, y))  # as grads: no verdict on numbers float64 cannot hold
        user = load_param_arrays(grads, "--grads", document_key="grads") if grads else None
        precision = np.dtype(dtype.value)
        r = run_check(cfg.net(), p, x, y, dtype=precision, grads=user, source=grads or "twonet's backward pass")
        curve = step_curve(cfg.net(), p, x, y, dtype=precision) if steps else None
        if json_:
            from .ui import jsondoc

            _print_json(jsondoc.check_json(r, failures, curve, batch=jsondoc.batch_json(origin, p, x, y)))
        else:
            console = Console(highlight=False)
            console.print(check_report(r, config_name(path), cfg.description, p.shape,
                                       f"B = {x.shape[0]}, {origin}", failures))
            if curve is not None:
                console.print(step_table(curve, r.dtype))
    raise typer.Exit(0 if r.passed else EXIT_MISMATCH)


@app.command(epilog=EXIT_CODES)
def train(
    config_: opt.ConfigOpt = None, set_: opt.SetOpt = None, print_config: opt.PrintConfigOpt = False,
    out: opt.OutDirOpt = None, force: opt.ForceOpt = False, params: opt.StartParamsOpt = None,
    json_: opt.TrainJsonOpt = False, quiet: opt.QuietOpt = False, plot: opt.PlotOpt = None,
    sweep: opt.SweepOpt = None,
) -> None:
    """Train with SGD on the config's data, showing progress; save the run with --out."""
    from . import load, runner
    from .data.sizes import Opened

    with reported():
        if sweep:
            from . import sweep as sweeps

            raise typer.Exit(sweeps.sweep(config_, set_ or [], sweep, out, force, params, json_, quiet, plot,
                                          print_config))
        opened = Opened()
        cfg, path = load.training_config(config_, set_ or [], params, opened)
        if print_config:
            sys.stdout.write(cfg.to_yaml())
            return
        runner.check_plot(plot)
        training, outcome = runner.train_run(cfg, out, force, quiet, opened.get(cfg))
        runner.plot_run(plot, training, cfg, path, set_ or [])
        if json_:
            from .ui import jsondoc

            _print_json(jsondoc.train_json(training, outcome, out))
        else:
            from .ui.train import training_report

            Console(highlight=False).print(training_report(training, outcome, out))
        runner.report_stop(outcome, cfg.train.lr, out)
    raise typer.Exit(runner.training_exit(outcome))


@app.command(epilog=EXIT_CODES)
def predict(
    input_: opt.PredictInputOpt, run: opt.RunOpt = None, best: opt.BestOpt = False, config_: opt.ConfigOpt = None,
    params: opt.ParamsOpt = None, set_: opt.SetOpt = None, out: opt.PredictOutOpt = None,
) -> None:
    """Predict ŷ (and the class label of a classifier) for new rows, with the run's preprocessing."""
    from . import load, runner
    from .data.stream import open_rows
    from .formats.write import TABLE_SUFFIXES, check_out_file
    from .inference import predict as predicted

    with reported():
        if out is not None:
            check_out_file(out, "--out", TABLE_SUFFIXES)
        model, _, _ = load.model_of(run, best, config_, set_, params)
        if out is not None and out.suffix.lower() == ".npy" and model.text_labels:
            raise TwonetError(f"--out: '{out}' would hold numbers only, and this network's class labels are text; "
                              "write a .csv or .json file")
        stream = open_rows(input_, "--input", model.prep.in_features)
        blocks = predicted(model, stream)  # columns checked before anything is written
        runner.write_predictions(out, model.columns(), blocks)


@app.command(epilog=EXIT_CODES)
def evaluate(
    input_: opt.EvaluateInputOpt = None, target: opt.TargetOpt = None, run: opt.RunOpt = None,
    best: opt.BestOpt = False, config_: opt.ConfigOpt = None, params: opt.ParamsOpt = None, set_: opt.SetOpt = None,
    json_: opt.JsonOpt = False,
) -> None:
    """Score a trained network on labelled rows: accuracy, per-class precision/recall/F1, the
    confusion matrix and log-loss for classifiers; R², MAE, RMSE for regression."""
    from . import load
    from .data.stream import open_rows
    from .inference import evaluate as scores
    from .inference import labelled
    from .ui.evaluate import evaluation

    with reported():
        model, name, cfg = load.model_of(run, best, config_, set_, params)
        if input_ is None and target is not None:
            raise TwonetError("--target: needs --input")
        source = input_ if input_ is not None else load.evaluation_source(cfg)
        stream = open_rows(source, "--input", model.prep.in_features if target is not None else None)
        targets = open_rows(target, "--target", 1, labels=model.classifier) if target is not None else None
        report = scores(model, labelled(model, stream, targets))
        if json_:
            from .ui import jsondoc

            return _print_json(jsondoc.evaluate_json(report, model))
        Console(highlight=False).print(evaluation(report, model, name, source))


@app.command(epilog=EXIT_CODES)
def assign(
    roster: opt.RosterArg, out: opt.AssignOutOpt, config_: opt.AssignConfigOpt = None, set_: opt.SetOpt = None,
    secret: opt.SecretOpt = None, batch: opt.AssignBatchOpt = None, values: opt.ValuesOpt = opt.Values.integers,
    format_: opt.SheetFormatOpt = opt.KeyFormat.markdown, force: opt.ForceOpt = False,
) -> None:
    """Give each student on a roster their own variant of the exercise: a sheet to hand out and a key to keep.
    The same roster, config and secret always give the same files."""
    from .course.assign import KIND, assign, check_replace
    from .course.assign import roster as read_roster
    from .data.sizes import load_config
    from .formats.write import write_folder

    with reported():
        if secret is None:
            raise TwonetError("--secret: needed (or set TWONET_SECRET): with each id it seeds that student's variant")
        cfg, path = load_config(config_ or "course", set_ or ())
        a = assign(cfg, path.stem, read_roster(roster), secret, batch, values.value, format_.value)
        if force:
            check_replace(out, secret)
        write_folder(out, a.files(), "--out", force, KIND)
        n, m, K = cfg.shape
        count = f"{len(a.variants)} variant{'s' * (len(a.variants) != 1)}"
        Console(highlight=False).print(
            f"Wrote {count} of {shown(a.name)} ({n} → {m} → {K}, batch {a.batch}) to {shown(out)}: sheets/ to hand "
            "out, keys/ to keep. Check a key with:")
        Console(highlight=False, soft_wrap=True).print(
            f"  twonet check -c {shown(out)}/config.yaml --grads {shown(out)}/keys/{shown(a.variants[0].student)}.json")


@app.command(epilog=EXIT_CODES)
def grade(
    submissions: opt.SubmissionsArg, keys: opt.KeysOpt, out: opt.GradeOutOpt = None, rtol: opt.RtolOpt = 1e-3,
    atol: opt.AtolOpt = 1e-6, weight: opt.WeightOpt = None, force: opt.ForceOpt = False,
) -> None:
    """Mark a folder of submissions against the keys of `twonet assign`: each item right within rtol/atol, or
    its mistake named (a transpose, a sign, the ×5 of the ReLU, a reduction, wrong entries, another's variant)."""
    from .check.marking import Tolerance
    from .course.grade import Weights, check_out, grade, load_course, write
    from .ui.course import grades_report

    with reported():
        weights = Weights.parse(weight or [])
        if out is not None:
            check_out(out, submissions, keys)
        grades = grade(load_course(keys), submissions, Tolerance(rtol, atol), weights)
        if out is not None:
            write(grades, out, force)
        Console(highlight=False).print(grades_report(grades.results, grades.stats, weights.total, grades.strays,
                                                     grades.id_column))
@app.command()
def configs() -> None:
    """List the shipped configs (use a name with --config)."""
    from rich.table import Table

    from .config.shipped import shipped_configs
    from .data.sizes import load_config

    with reported():
        t = Table("name", "description", title="Shipped configs", title_justify="left")
        for name, path in shipped_configs().items():
            t.add_row(name, shown(load_config(str(path))[0].description))
        Console().print(t)


def _check_impl(impl: str, config_: str | None, set_: list[str] | None, others: list[Any], timeout: float,
                memory: int) -> int:
    """`check --impl`: the code run on its cases, the report printed; the exit code."""
    from .data.sizes import load_config
    from .student.verify import parse_spec, verify
    from .ui.impl import impl_report

    with reported():
        if any(o is not None for o in others):
            raise TwonetError("--impl: runs its own cases; --grads, --input, --target, --params, --run, --best, "
                              "--steps, --json, --dtype, --batch and --failures cannot be combined with it")
        if parse_spec(impl)[1] == "skeleton" and (config_ is not None or set_):
            raise TwonetError("--impl: the course's skeleton is run on every f × g × loss it allows; --config and "
                              "--set choose the network of a FILE.py:FUNCTION only")
        cfg, _ = load_config(config_, set_ or ())
        report = verify(impl, cfg.net(), cfg.shape, timeout, memory)
        Console(highlight=False).print(impl_report(report))
    return 0 if report.passed else EXIT_MISMATCH


def _finite(e: Any) -> Any:
    """An Explanation with no NaN or infinity (none is printed as a result): else name the first."""
    where = e.non_finite()
    if where is not None:
        raise TwonetError(f"{where} is not finite: the inputs or parameters are too large for float64")
    return e


def _print_json(doc: dict[str, Any]) -> None:
    """One JSON document on stdout (ui/jsondoc.py builds it; imported only for --json)."""
    from .ui.jsondoc import dumps

    sys.stdout.write(dumps(doc))


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
    except BrokenPipeError:  # the reader of stdout stopped early, at the last flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_BROKEN_PIPE
    except OSError as e:  # stdout is full (/dev/full)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
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

