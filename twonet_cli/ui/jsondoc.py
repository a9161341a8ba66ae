"""The one JSON layer: `grads`, `check` and `train` results as plain JSON values.

Each function returns a document (dicts, lists, numbers, strings); ``dumps`` makes it one line.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.jacobians import as_matrix
from ..core.metrics import metric_key
from ..formats.write import label_value

if TYPE_CHECKING:  # `grads --json` loads neither the check nor the training loop
    from ..check.compare import Comparison
    from ..check.report import ArrayCheck, CheckReport, StepCurve
    from ..core.activations import Array
    from ..core.explain import Explanation
    from ..core.model import Net, Params
    from ..train.loop import Training
    from ..train.session import Outcome
    from ..train.sgd import Step


def dumps(doc: dict[str, Any]) -> str:
    """One line of strict JSON, ending in a newline. The one rule for numbers float64 cannot show
    finitely (NaN, ±infinity): each becomes null, and "non_finite" lists where, so that every
    parser (JavaScript's JSON.parse, jq) reads the document."""
    where: list[str] = []

    def clean(v: Any, path: str) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            where.append(path)
            return None
        if isinstance(v, dict):
            return {k: clean(item, f"{path}.{k}" if path else str(k)) for k, item in v.items()}
        if isinstance(v, list):
            return [clean(item, f"{path}[{i}]") for i, item in enumerate(v)]
        return v

    out = clean(doc, "")
    if where:
        out["non_finite"] = {"paths": where[:100], "count": len(where),
                             "why": "not finite in float64 (a diverged run, or an overflow); shown as null"}
    return json.dumps(out, allow_nan=False) + "\n"


def grads_json(e: Explanation, step: Step | None = None) -> dict[str, Any]:
    """One pass: the network, params, loss, grads, and one record per sample with every intermediate."""
    c, b, j = e.cache, e.back, e.jac
    samples = [
        {
            "x": c.x[i].tolist(),
            "y": e.y[i].tolist(),
            "z1": c.z1[i].tolist(),
            "z2": c.z2[i].tolist(),
            "z3": c.z3[i].tolist(),
            "y_hat": c.y_hat[i].tolist(),
            "dloss_dz3": b.dloss_dz3[i].tolist(),
            "dloss_dz2": b.dloss_dz2[i].tolist(),
            "dloss_dz1": b.dloss_dz1[i].tolist(),
            "jacobians": {
                "dz2_dz1_diagonal": j.dz2_dz1[i].tolist(),  # f is elementwise: ∂z2/∂z1 is diagonal
                "dyhat_dz3": as_matrix(j.dyhat_dz3[i]).tolist(),
                "dloss_dyhat": j.dloss_dyhat[i].tolist(),
            },
        }
        for i in range(e.batch)
    ]
    return {
        "network": network_json(e.net, e.params.shape),
        "params": {k: a.tolist() for k, a in e.params.items()},
        "loss": e.loss,
        "grads": {k: a.tolist() for k, a in e.back.grads.items()},
        "samples": samples,
        **({} if step is None else {
            "step": {"lr": step.lr, "momentum": step.momentum, "nesterov": step.nesterov,
                     "weight_decay": step.weight_decay, "update": {k: a.tolist() for k, a in step.update.items()}},
            "params_after": {k: a.tolist() for k, a in step.params_after.items()},
            "loss_after": step.loss_after,
        }),
    }


def network_json(net: Net, shape: tuple[int, int, int]) -> dict[str, Any]:
    """The network as `grads --json` names it: sizes, f and g (with ReLU's scale), loss, reduction."""
    n, m, K = shape
    return {"in_features": n, "hidden": m, "out_features": K, "f": net.f.spec(), "g": net.g.spec(),
            "loss": net.loss.name, "reduction": net.loss.reduction}


def batch_json(origin: str, p: Params, x: Array, y: Array) -> dict[str, Any]:
    """The batch a check ran on, whole, so that `grads` can be run on the very same numbers."""
    return {"origin": origin, "x": x.tolist(), "y": y.tolist(), "params": {k: a.tolist() for k, a in p.items()}}


def check_json(r: CheckReport, failures: int = 5, curve: StepCurve | None = None,
               batch: dict[str, Any] | None = None) -> dict[str, Any]:
    """A check's report: every array's errors against both references, findings, the verdict."""
    def comp(c: Comparison) -> dict[str, Any]:
        worst = c.worst()
        return {
            "entries": c.entries,
            "kinks": int(c.kinks.sum()),
            "not_checkable": c.waived_count,
            "max_abs_error": float(np.where(c.counted, c.abs_err, 0).max(initial=0.0)),
            "max_rel_error": float(np.where(c.counted, c.rel_err, 0).max(initial=0.0)),
            "worst": {"index": list(worst), "analytic": float(c.analytic[worst]), "numeric": float(c.numeric[worst])}
            if worst else None,
            "rtol": c.rtol,
            "atol": c.atol,
            "passed": c.passed,
            "failures": [{"index": list(i), "analytic": a, "numeric": n, "rel_error": e}
                         for i, a, n, e in c.top_failures(failures)],
        }

    def row(x: ArrayCheck) -> dict[str, Any]:
        return {"name": x.name, "stage": x.stage, "passed": r.row_passed(x), "complex_step": comp(x.primary),
                "central": comp(x.central), "central_unreliable": int(x.unreliable.sum())}

    return {
        "passed": r.passed,
        "dtype": r.dtype,
        "gradients": r.source,
        "entries": r.entries,
        "kinks": r.kinks,
        "params": [row(x) for x in r.params],
        "jacobians": [row(x) for x in r.jacobians],
        "findings": [{"param": f.param, "kind": f.kind, "message": f.message} for f in r.findings],
        "skipped": [{"array": name, "entries": n, "why": why} for name, n, why in r.waivers()],
        **({"batch": batch} if batch is not None else {}),
        **({"steps": [{"h": h, "max_rel_error": mx, "median_rel_error": md} for h, mx, md in curve]}
           if curve is not None else {}),
    }


def diagnostics_json(training: Training) -> dict[str, Any] | None:
    """The run's end diagnostics (history.csv's last row, on its probe rows) as numbers, with the hints
    they give."""
    d = training.final_diagnostics
    if d is None:
        return None
    return {"rows": d.rows, "kept": d.kept, "dloss_dz1_norm": d.dz1, "dloss_dz2_norm": d.dz2,
            "flat_fraction": d.flat, "dead_fraction": d.dead, "moved_W1": d.moved_1, "moved_W2": d.moved_2,
            "grad_norm_W1": d.grad_W1, "grad_norm_b1": d.grad_b1, "grad_norm_W2": d.grad_W2,
            "grad_norm_b2": d.grad_b2, "update_ratio_layer1": d.update_1, "update_ratio_layer2": d.update_2,
            "hints": training.hints()}


def train_json(training: Training, outcome: Outcome, out: Path | None) -> dict[str, Any]:
    """A finished run as plain JSON values (non-finite numbers as null)."""
    from ..train.loop import best_epoch

    h = training.history
    last = h[-1] if h else None
    best = best_epoch(h)
    step_time = sum(e.seconds for e in h)
    return {
        "stopped": outcome.reason,
        "message": outcome.message,
        "epochs": last.epoch if last else 0,
        "steps": last.steps if last else 0,
        "train_loss": last.train_loss if last else None,
        "val_loss": last.val_loss if last else None,
        "best_val_loss": best.val_loss if best else None,
        "best_epoch": best.epoch if best else None,
        "metric_name": metric_key(training.split.data.task),
        "metric": last.metric if last else None,
        "samples_per_second": sum(e.samples for e in h) / step_time if step_time > 0 else None,
        "seconds": outcome.seconds,
        "out": str(out) if out is not None else None,
        "test": None if training.test_score is None else {"loss": training.test_score[0],
                                                          "metric": training.test_score[1]},
        "diagnostics": diagnostics_json(training),
        "history": [{k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in e.__dict__.items()}
                    for e in h],
    }


def evaluate_json(r: dict[str, Any], model: Any) -> dict[str, Any]:
    """An evaluation: rows, loss, and the classification or regression scores, as numbers."""
    out: dict[str, Any] = {"task": r["task"], "rows": r["rows"], "loss_name": r["loss_name"], "loss": r["loss"]}
    if "classification" in r:
        c = r["classification"]
        labels = [label_value(model.prep.labels[i]) for i in c["classes"]]
        out.update({
            "accuracy": c["accuracy"],
            "log_loss": r["log_loss"],
            "classes": [{"label": label, "precision": float(c["precision"][i]), "recall": float(c["recall"][i]),
                         "f1": float(c["f1"][i]), "support": int(c["support"][i])} for i, label in enumerate(labels)],
            "macro_avg": c["macro"],
            "weighted_avg": c["weighted"],
            "confusion_matrix": {"labels": labels, "matrix": c["confusion"].tolist()},
        })
    else:
        g = r["regression"]
        names = model.prep.target_names or [str(k) for k in range(len(g["per_output"]["r2"]))]
        out.update({k: g[k] for k in ("r2", "mae", "mse", "rmse")})
        out["outputs"] = [{"name": name, **{k: float(v[i]) for k, v in g["per_output"].items()}}
                          for i, name in enumerate(names)]
    return out

