"""The `twonet` command line: thin commands that parse, load, call the core and render."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import numpy as np
import typer
import typer.exceptions
from rich.console import Console
from rich.markup import escape

from . import arrays, config
from .errors import EXIT_INTERRUPTED, EXIT_MISMATCH, TwonetError
from .runs import RunDir

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
                 f"(default: {config.DEFAULT_CONFIG}). See `twonet configs`.", show_default=False),
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

err_console = Console(stderr=True, highlight=False)


@contextmanager
def reported() -> Iterator[None]:
    """Turn twonet's errors into one red line on stderr and their exit code (the one place this happens)."""
    try:
        with np.errstate(all="ignore"):  # overflow is detected by checking results, not by warnings
            yield
    except TwonetError as e:
        error_line(str(e))
        raise typer.Exit(e.exit_code) from None


def error_line(message: str) -> None:
    """One line on stderr, whatever the message quotes: control characters are shown escaped."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    err_console.print(f"[bold red]Error:[/bold red] {escape(text)}", soft_wrap=True)


def version_callback(value: bool) -> None:
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


def _load_problem(
    cfg: config.Config, input_: str | None, target: str | None, params: str | None, source: Path
) -> tuple[Any, Any, Any]:
    """(params, x (B, n), y (B, K)) from the options, falling back to the config."""
    m = cfg.model
    n, K = m.in_features, m.out_features
    p = arrays.load_params(params, (n, m.hidden, K)) if params else cfg.params()
    if input_ is not None:
        if target is None:
            raise TwonetError("--target: needed with --input (K numbers per sample, or class indices)")
        x = arrays.as_inputs(arrays.load_array(input_, "--input"), n, "--input")
        y = arrays.as_targets(arrays.load_array(target, "--target"), K, x.shape[0], cfg.loss.name, "--target")
        return p, x, y
    if cfg.example is None:
        raise TwonetError(f"--input: needed, since {source} has no example section")
    x = arrays.as_inputs(cfg.example.x, n, f"{source}: example.x")
    if target is not None:
        y = arrays.as_targets(arrays.load_array(target, "--target"), K, x.shape[0], cfg.loss.name, "--target")
    elif cfg.example.y is not None:
        y = arrays.as_targets(cfg.example.y, K, x.shape[0], cfg.loss.name, f"{source}: example.y")
    else:
        raise TwonetError(f"--target: needed, since {source} has no example.y")
    return p, x, y


@app.command(epilog=EXIT_CODES)
def grads(
    config_: ConfigOpt = None,
    input_: InputOpt = None,
    target: TargetOpt = None,
    params: ParamsOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
    precision: Annotated[int, typer.Option(min=0, max=17, help="Digits after the decimal point.")] = 6,
    max_size: Annotated[int, typer.Option(min=1, help="Elide arrays with more entries than this.")] = 64,
    full: Annotated[bool, typer.Option("--full", help="Show diagonal Jacobians as full matrices.")] = False,
    sample: Annotated[int, typer.Option(min=0, help="Which sample of a batch the per-sample tables show.")] = 0,
) -> None:
    """Show one forward and backward pass: z1, z2, z3, ŷ, the loss, every Jacobian and gradient."""
    from .explain import explain
    from .render import View, explanation

    with reported():
        cfg, path = config.load(config_, set_ or ())
        p, x, y = _load_problem(cfg, input_, target, params, path)
        if sample >= x.shape[0]:
            raise TwonetError(f"--sample: {sample} is out of range for a batch of {x.shape[0]}")
        e = explain(cfg.net(), p, x, y)
        _require_finite(e.as_json())
        if json_:
            sys.stdout.write(json.dumps(e.as_json()) + "\n")
            return
        console = Console(highlight=False)
        view = View(precision, max_size, full, sample, width=console.width)
        console.print(explanation(e, view, config.name_of(path), cfg.description))


def _require_finite(doc: dict[str, Any]) -> None:
    """Refuse to print NaN or infinity as a result; name where it first appears."""
    def walk(v: Any, where: str) -> None:
        if isinstance(v, dict):
            for k, item in v.items():
                walk(item, f"{where}.{k}" if where else k)
        elif isinstance(v, list):
            for item in v:
                walk(item, where)
        elif isinstance(v, float) and not np.isfinite(v):
            raise TwonetError(f"{where} is not finite: the inputs or parameters are too large for float64")

    walk(doc, "")


class DType(str, Enum):
    float64 = "float64"
    float32 = "float32"


@app.command(epilog=EXIT_CODES)
def check(
    config_: ConfigOpt = None,
    input_: InputOpt = None,
    target: TargetOpt = None,
    params: ParamsOpt = None,
    set_: SetOpt = None,
    grads: Annotated[Optional[str], typer.Option(
        "--grads", "-g", metavar="FILE", show_default=False,
        help="Check these gradients (W1, b1, W2, b2 in a .npz/.json/.yaml, e.g. from a hand-written backward "
             "pass) instead of twonet's, and name the mistake.")] = None,
    dtype: Annotated[DType, typer.Option(help="Run the whole check in this precision.")] = DType.float64,
    steps: Annotated[bool, typer.Option("--steps", help="Also print the central-difference error against "
                                        "the step size h (the truncation/rounding U-curve).")] = False,
    batch: Annotated[int, typer.Option(min=1, help="Size of the random batch used without --input.")] = 8,
    failures: Annotated[int, typer.Option(min=0, help="Failing entries listed per parameter.")] = 3,
    json_: JsonOpt = False,
) -> None:
    """Check every gradient entry against the complex step and central differences; name what is wrong."""
    from .check import report_json, run_check, step_curve
    from .render_check import report, step_table

    with reported():
        cfg, path = config.load(config_, set_ or ())
        m = cfg.model
        if input_ is not None:
            p, x, y = _load_problem(cfg, input_, target, params, path)
        elif target is not None:
            raise TwonetError("--target: needs --input (without both, check uses a random batch)")
        else:
            p = arrays.load_params(params, (m.in_features, m.hidden, m.out_features)) if params else cfg.params()
            rng = np.random.default_rng(m.init.seed)
            x, y = arrays.random_batch(m.in_features, m.out_features, cfg.loss.name, batch, rng)
        user = arrays.load_param_arrays(grads, "--grads") if grads else None
        source = grads or "twonet's backward pass"
        r = run_check(cfg.net(), p, x, y, dtype=np.dtype(dtype.value), grads=user, source=source)
        curve = step_curve(cfg.net(), p, x, y, dtype=np.dtype(dtype.value)) if steps else None
        if json_:
            doc = report_json(r, failures)
            if curve is not None:
                doc["steps"] = [{"h": h, "max_rel_error": mx, "median_rel_error": md} for h, mx, md in curve]
            sys.stdout.write(json.dumps(doc) + "\n")
        else:
            console = Console(highlight=False)
            console.print(report(r, config.name_of(path), cfg.description, p.shape, x.shape[0], failures))
            if curve is not None:
                console.print(step_table(curve, r.dtype))
    raise typer.Exit(0 if r.passed else EXIT_MISMATCH)


@app.command(epilog=EXIT_CODES)
def train(
    config_: ConfigOpt = None,
    set_: SetOpt = None,
    print_config: Annotated[bool, typer.Option("--print-config", help="Print the resolved config and exit.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="DIR", show_default=False,
                   help="Save params.npz, best.npz, config.yaml and history.csv here (atomically).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite a run already in --out.")] = False,
    params: Annotated[Optional[str], typer.Option("--params", "-p", metavar="FILE", show_default=False,
                      help="Start from W1, b1, W2, b2 in a .npz/.json/.yaml file.")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print a JSON summary to stdout instead of tables.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    plot: Annotated[Optional[Path], typer.Option("--plot", metavar="FILE.png", show_default=False,
                    help="Save loss curves (and decision regions for 2-D classification); needs the plot extra.")
                    ] = None,
) -> None:
    """Train with SGD on the config's data, showing progress; save the run with --out."""
    from . import data as datasets
    from .render_train import save_plot
    from .session import decision_regions, drive, report
    from .train import Training

    with reported():
        cfg, _ = config.load(config_, set_ or ())
        if params:
            cfg = config.with_params(cfg, arrays.load_params(params, cfg.shape))
        if print_config:
            sys.stdout.write(cfg.to_yaml())
            return
        if plot is not None and plot.suffix.lower() != ".png":
            raise TwonetError(f"--plot: '{plot}' must end in .png")
        run_dir = RunDir(out, force) if out is not None else None
        m = cfg.model
        dataset, train_rows, val_rows = datasets.from_config(cfg.data, m.in_features, m.out_features, cfg.loss.name)
        training = Training(cfg.net(), cfg.params(), dataset, train_rows, val_rows, cfg.train)
        outcome = drive(training, None if quiet else err_console, run_dir, cfg.to_yaml())
        if plot is not None and training.history:
            save_plot(plot, training.history, decision_regions(training, dataset, train_rows))
        report(training, outcome, cfg.train.lr, out, json_, Console(highlight=False), error_line)
    raise typer.Exit(_training_exit(outcome.reason))


def _training_exit(reason: str) -> int:
    return {"diverged": EXIT_MISMATCH, "interrupted": EXIT_INTERRUPTED}.get(reason, 0)


@app.command()
def configs() -> None:
    """List the shipped configs (use a name with --config)."""
    from rich.table import Table

    with reported():
        t = Table("name", "description", title="Shipped configs", title_justify="left")
        for name, path in config.shipped_configs().items():
            cfg, _ = config.load(str(path))
            t.add_row(name, escape(cfg.description))
        Console().print(t)


def run() -> None:
    """Entry point of the console script: usage errors too become one line and exit code 2."""
    if len(sys.argv) == 1:  # a bare `twonet` shows the help
        sys.argv.append("--help")
    try:
        code = app(prog_name="twonet", standalone_mode=False)
    except typer.exceptions.TyperException as e:  # Typer's usage errors (bad option, bad value)
        ctx = getattr(e, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        error_line(f"{e.format_message()}{hint}")
        code = e.exit_code
    except typer.Abort:
        err_console.print("Aborted.")
        code = EXIT_INTERRUPTED
    sys.exit(code if isinstance(code, int) else 0)

if __name__ == "__main__":
    run()

