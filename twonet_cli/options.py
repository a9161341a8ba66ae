"""The options the commands share, declared once (Typer reads their help from here)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from . import DEFAULT_CONFIG


def _option(*names: str, help: str, metavar: str | None = None) -> Any:
    """An option whose help says its default (Typer shows none)."""
    return typer.Option(*names, metavar=metavar, show_default=False, help=help)


HELP = {
    "config": f"Config file, or the name of a shipped config (default: {DEFAULT_CONFIG}). See `twonet configs`.",
    "set": "Override a config key, e.g. --set model.hidden=8 (repeatable).",
    "input": "Inline '0.5,-1.2' (rows separated by ';') or a .csv/.npy/.json file. Default: the config's example.",
    "target": "Same forms as --input; class indices for cross_entropy.",
    "params": "W1, b1, W2, b2 from a .npz/.json/.yaml file. Default: the config's params or init.",
    "run": "A run saved by `twonet train --out DIR`: its config, params and preprocessing (feature columns, "
           "standardisation, class labels).",
    "grads": "Check these gradients (W1, b1, W2, b2 in a .npz/.json/.yaml, e.g. from a hand-written backward pass) "
             "instead of twonet's, and name the mistake.",
    "lr": "Also take one SGD step θ ← θ − η ∂ℓ/∂θ (with the config's train.momentum, nesterov and weight_decay, "
          "as torch.optim.SGD's first step) and show the update and the loss after it.",
    "out_dir": "Save the run here (parameters, best parameters, config, history, preprocessing; written "
               "atomically); use it with predict, evaluate, grads and check --run DIR.",
    "plot": "Save the run's pictures to a .png, .svg or .pdf file (a missing folder is made): loss, metric, what "
            "reaches the first layer, and for two inputs the plane through the layers; needs the plot extra.",
    "sweep": "Train every combination of these values (repeatable), each as a run with those --set overrides, "
             "then compare them; --out DIR keeps each run in a subfolder, with sweep.csv.",
    "predict_input": "Rows to predict: inline '0.5,-1.2;1,0' or a .csv/.npy/.json file (streamed). A table as "
                     "wide as the training file, or with its header, has its feature columns picked.",
    "predict_out": "Write the predictions to a .csv, .npy or .json file (default: CSV on stdout).",
    "evaluate_input": "Labelled rows (features and target columns, by header name or at the training file's "
                      "positions), or features alone with --target. Default: the config's data.test.",
    "steps": "Also print the central-difference error against the step size h (the truncation/rounding U-curve).",
    "batch": "Size of the random batch used when there is no --input and the config has no example.",
    "start_params": "Start from W1, b1, W2, b2 in a .npz/.json/.yaml file.",
}

ConfigOpt = Annotated[Optional[str], _option("--config", "-c", metavar="NAME|FILE", help=HELP["config"])]
SetOpt = Annotated[Optional[list[str]], typer.Option("--set", "-s", metavar="KEY=VALUE", help=HELP["set"])]
InputOpt = Annotated[Optional[str], _option("--input", "-x", metavar="VALUES|FILE", help=HELP["input"])]
TargetOpt = Annotated[Optional[str], _option("--target", "-y", metavar="VALUES|FILE", help=HELP["target"])]
ParamsOpt = Annotated[Optional[str], _option("--params", "-p", metavar="FILE", help=HELP["params"])]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object to stdout instead of tables.")]
RunOpt = Annotated[Optional[Path], _option("--run", "-r", metavar="DIR", help=HELP["run"])]
BestOpt = Annotated[bool, typer.Option("--best", help="With --run: the run's best.npz instead of params.npz.")]
GradsOpt = Annotated[Optional[str], _option("--grads", "-g", metavar="FILE", help=HELP["grads"])]
LrOpt = Annotated[Optional[float], _option("--lr", metavar="η", help=HELP["lr"])]
OutDirOpt = Annotated[Optional[Path], _option("--out", "-o", metavar="DIR", help=HELP["out_dir"])]
PlotOpt = Annotated[Optional[Path], _option("--plot", metavar="FILE", help=HELP["plot"])]
SweepOpt = Annotated[Optional[list[str]], _option("--sweep", metavar="KEY=V1,V2", help=HELP["sweep"])]
PredictInputOpt = Annotated[str, _option("--input", "-x", metavar="VALUES|FILE", help=HELP["predict_input"])]
PredictOutOpt = Annotated[Optional[Path], _option("--out", "-o", metavar="FILE", help=HELP["predict_out"])]
EvaluateInputOpt = Annotated[Optional[str], _option("--input", "-x", metavar="VALUES|FILE",
                                                    help=HELP["evaluate_input"])]
StartParamsOpt = Annotated[Optional[str], _option("--params", "-p", metavar="FILE", help=HELP["start_params"])]


class KeyFormat(str, Enum):
    """The answer-key formats of `grads --format`."""

    markdown = "markdown"
    latex = "latex"


class Values(str, Enum):
    """The numbers `assign` draws."""

    integers = "integers"
    tenths = "tenths"


class DType(str, Enum):
    """The precisions `check` runs in."""

    float64 = "float64"
    float32 = "float32"


PrecisionOpt = Annotated[int, typer.Option(min=0, max=17, help="Digits after the decimal point.")]
MaxSizeOpt = Annotated[int, typer.Option(min=1, max=10**9, help="Elide arrays with more entries than this.")]
FullOpt = Annotated[bool, typer.Option("--full", help="Show diagonal Jacobians as full matrices.")]
SampleOpt = Annotated[int, typer.Option(min=0, help="Which sample of a batch the per-sample tables show.")]
DTypeOpt = Annotated[DType, typer.Option(help="Run the whole check in this precision.")]
StepsOpt = Annotated[bool, typer.Option("--steps", help=HELP["steps"])]
BatchOpt = Annotated[int, typer.Option(min=1, max=100_000, help=HELP["batch"])]
FailuresOpt = Annotated[int, typer.Option(min=0, help="Failing entries listed per parameter.")]
PrintConfigOpt = Annotated[bool, typer.Option("--print-config", help="Print the resolved config and exit.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite a run already in --out.")]
TrainJsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON summary to stdout instead of tables.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
FormatOpt = Annotated[Optional[KeyFormat], typer.Option(
    "--format", show_default=False,
    help="Print the worked solution (an answer key) instead of tables: the SGD iteration, each module's input and "
         "output, the four gradients as chain-rule products, the Jacobians; markdown ($…$ math) or a LaTeX "
         "document. η is --lr, else train.lr; numbers with --precision digits.")]
AssignConfigOpt = Annotated[Optional[str], _option(
    "--config", "-c", metavar="NAME|FILE",
    help="The exercise's network: a config file or a shipped config's name (default: course, 2 → 3 → 1 with "
         "5·ReLU, identity and MSE: small enough to work by hand).")]
RosterArg = Annotated[Path, typer.Argument(
    metavar="ROSTER.csv", show_default=False,
    help="The class: a CSV with a header naming an id column (id, student_id, sid, login, username or email).")]
AssignOutOpt = Annotated[Path, typer.Option(
    "--out", "-o", metavar="DIR", show_default=False,
    help="Write here: sheets/ (one per student, to hand out), keys/ (JSON and worked solution, to keep), "
         "config.yaml and manifest.json.")]
SecretOpt = Annotated[Optional[str], typer.Option(
    "--secret", envvar="TWONET_SECRET", show_default=False, show_envvar=True,
    help="The course secret: with a student's id it seeds their variant. Keep it to redo the keys; without it a "
         "student cannot work out another's numbers.")]
AssignBatchOpt = Annotated[Optional[int], typer.Option(
    "--batch", min=1, max=16, show_default=False,
    help="Samples per student (default: as many as the config's example has, else 1).")]
ValuesOpt = Annotated[Values, typer.Option(
    "--values", help="Draw x, y and the parameters as integers from −3…3 (weights −2…2), or with one decimal.")]
SheetFormatOpt = Annotated[KeyFormat, typer.Option("--format", help="Sheets and keys as Markdown or LaTeX.")]
SubmissionsArg = Annotated[Path, typer.Argument(
    metavar="SUBMISSIONS", show_default=False,
    help="A folder with one submission per student: ID.json, ID.yaml, ID.npz, or a folder ID/ of one "
         "CSV per item (dW1.csv, …). Read as data; nothing in it is run.")]
KeysOpt = Annotated[Path, typer.Option("--keys", "-k", metavar="DIR", show_default=False,
                                       help="The folder `twonet assign --out` wrote.")]
GradeOutOpt = Annotated[Optional[Path], typer.Option(
    "--out", "-o", metavar="DIR", show_default=False,
    help="Also write gradebook.csv (one column per item and a total), marks.csv, stats.csv and feedback/ID.md.")]
RtolOpt = Annotated[float, typer.Option("--rtol", min=0.0, max=1.0,
                                        help="An entry is right within atol + rtol·|answer| (numpy.isclose's rule).")]
AtolOpt = Annotated[float, typer.Option("--atol", min=0.0, max=1e6, help="See --rtol.")]
WeightOpt = Annotated[Optional[list[str]], typer.Option(
    "--weight", "-w", metavar="ITEM=POINTS",
    help="Points for an item (default 1 each): z1, z2, z3, y_hat, loss, dW1, db1, dW2, db2 (repeatable).")]
ImplOpt = Annotated[Optional[str], _option(
    "--impl", metavar="FILE.py|MODULE:FUNCTION",
    help="Run and check your own backprop code (in a child process, with --timeout and --memory limits): the "
         "course's mlp.py skeleton (MLP, mse_loss, bce_loss) on every f × g × loss it allows, or a function "
         "grads(params, x, y) → {W1, b1, W2, b2} with the config's f, g and loss. It executes the file given.")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", min=1.0, max=3600.0,
                                           help="With --impl: seconds the code may run.")]
MemoryOpt = Annotated[int, typer.Option("--memory", min=1024, max=1_000_000,
                                        help="With --impl: MB of memory the code may use.")]
