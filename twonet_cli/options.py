"""The options the commands share, declared once (Typer reads their help from here)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import DEFAULT_CONFIG

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

GradsOpt = Annotated[Optional[str], typer.Option(
    "--grads", "-g", metavar="FILE", show_default=False,
    help="Check these gradients (W1, b1, W2, b2 in a .npz/.json/.yaml, e.g. from a hand-written backward "
         "pass) instead of twonet's, and name the mistake.")]
LrOpt = Annotated[Optional[float], typer.Option(
    "--lr", metavar="η", show_default=False,
    help="Also take one SGD step θ ← θ − η ∂ℓ/∂θ (with the config's train.momentum, nesterov and "
         "weight_decay, as torch.optim.SGD's first step) and show the update and the loss after it.")]
OutDirOpt = Annotated[Optional[Path], typer.Option(
    "--out", "-o", metavar="DIR", show_default=False,
    help="Save the run here (parameters, best parameters, config, history, preprocessing; written "
         "atomically); use it with predict, evaluate, grads and check --run DIR.")]
PlotOpt = Annotated[Optional[Path], typer.Option(
    "--plot", metavar="FILE.png", show_default=False,
    help="Save loss curves (and decision regions for 2-D classification); needs the plot extra.")]
SweepOpt = Annotated[Optional[list[str]], typer.Option(
    "--sweep", metavar="KEY=V1,V2", show_default=False,
    help="Train every combination of these values (repeatable), each as a run with those --set "
         "overrides, then compare them; --out DIR keeps each run in a subfolder, with sweep.csv.")]
PredictInputOpt = Annotated[str, typer.Option(
    "--input", "-x", metavar="VALUES|FILE", show_default=False,
    help="Rows to predict: inline '0.5,-1.2;1,0' or a .csv/.npy/.json file (streamed). A table "
         "as wide as the training file, or with its header, has its feature columns picked.")]
PredictOutOpt = Annotated[Optional[Path], typer.Option(
    "--out", "-o", metavar="FILE", show_default=False,
    help="Write the predictions to a .csv, .npy or .json file (default: CSV on stdout).")]
EvaluateInputOpt = Annotated[Optional[str], typer.Option(
    "--input", "-x", metavar="VALUES|FILE", show_default=False,
    help="Labelled rows (features and target columns, by header name or at the training file's "
         "positions), or features alone with --target. Default: the config's data.test.")]


class DType(str, Enum):
    """The precisions `check` runs in."""

    float64 = "float64"
    float32 = "float32"


PrecisionOpt = Annotated[int, typer.Option(min=0, max=17, help="Digits after the decimal point.")]
MaxSizeOpt = Annotated[int, typer.Option(min=1, max=10**9, help="Elide arrays with more entries than this.")]
FullOpt = Annotated[bool, typer.Option("--full", help="Show diagonal Jacobians as full matrices.")]
SampleOpt = Annotated[int, typer.Option(min=0, help="Which sample of a batch the per-sample tables show.")]
DTypeOpt = Annotated[DType, typer.Option(help="Run the whole check in this precision.")]
StepsOpt = Annotated[bool, typer.Option("--steps", help="Also print the central-difference error against "
                                          "the step size h (the truncation/rounding U-curve).")]
BatchOpt = Annotated[int, typer.Option(min=1, max=100_000, help="Size of the random batch used when there is "
                                         "no --input and the config has no example.")]
FailuresOpt = Annotated[int, typer.Option(min=0, help="Failing entries listed per parameter.")]
PrintConfigOpt = Annotated[bool, typer.Option("--print-config", help="Print the resolved config and exit.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite a run already in --out.")]
StartParamsOpt = Annotated[Optional[str], typer.Option("--params", "-p", metavar="FILE", show_default=False,
                  help="Start from W1, b1, W2, b2 in a .npz/.json/.yaml file.")]
TrainJsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON summary to stdout instead of tables.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
