"""Rich tables for `twonet evaluate`: the scores, per-class precision/recall/F1, the confusion matrix."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Group, RenderableType
from rich.table import Column, Table

from ..console import shown
from ..formats.write import number_text
from ..inference import Model


def class_names(report: dict[str, Any], model: Model) -> list[str]:
    """The labels of the classes a classification report shows, as text."""
    assert model.prep.labels is not None
    return [number_text(model.prep.labels[i]) for i in report["classes"]]


MAX_CLASS_ROWS = 30  # per-class rows shown; the rest are in --json
MAX_MATRIX = 12  # classes a confusion matrix is shown for; beyond, its largest off-diagonal cells


def confusion(names: list[str], matrix: Any) -> Table:
    """The confusion matrix (rows: true class), or past MAX_MATRIX classes its most common mistakes."""
    if len(names) <= MAX_MATRIX:
        cm = Table("true \\ predicted", *(Column(shown(n), justify="right") for n in names),
                   title="Confusion matrix", title_justify="left", title_style="bold")
        for label, row in zip(names, matrix, strict=True):
            cm.add_row(shown(label), *(f"{int(v):,}" for v in row))
        return cm
    off = np.array(matrix, dtype=np.int64)
    np.fill_diagonal(off, 0)
    flat = np.argsort(-off, axis=None, kind="stable")[:10]
    t = Table("true", "predicted as", Column("rows", justify="right"), title=f"Most common mistakes ({len(names)} "
              "classes: the whole confusion matrix is in --json)", title_justify="left", title_style="bold")
    for k in flat:
        i, j = divmod(int(k), len(names))
        if off[i, j]:
            t.add_row(shown(names[i]), shown(names[j]), f"{int(off[i, j]):,}")
    return t


def evaluation(r: dict[str, Any], model: Model, name: str, source: str) -> RenderableType:
    """The scores of one `evaluate` run."""
    t = Table(title="Scores", title_justify="left", title_style="bold", show_header=False)
    t.add_column(style="bold")
    t.add_column(justify="right")
    t.add_row("network", shown(name))
    t.add_row("rows", f"{r['rows']:,} of {shown(source)}")
    t.add_row(f"loss ({r['loss_name']}, mean)", f"{r['loss']:.6g}")
    parts: list[RenderableType] = [t]
    if "classification" in r:
        c = r["classification"]
        t.add_row("accuracy", f"{c['accuracy']:.4f}")
        if r["log_loss"] is not None:
            t.add_row("log-loss", f"{r['log_loss']:.6g}")
        names = class_names(c, model)
        shown_rows = np.argsort(-c["support"], kind="stable")[:MAX_CLASS_ROWS]  # the largest classes, past a size
        more = len(names) - len(shown_rows)
        per = Table("class", *(Column(h, justify="right") for h in ("precision", "recall", "F1", "support")),
                    title="Per class" + (f" (the {len(shown_rows)} largest of {len(names)}; all in --json)" if more
                                         else ""), title_justify="left", title_style="bold")
        for i in sorted(shown_rows):
            per.add_row(shown(names[i]), f"{c['precision'][i]:.4f}", f"{c['recall'][i]:.4f}", f"{c['f1'][i]:.4f}",
                        f"{int(c['support'][i]):,}")
        total = f"{int(c['support'].sum()):,}"
        per.add_section()
        for avg in ("macro", "weighted"):
            a = c[avg]
            per.add_row(f"{avg} avg", f"{a['precision']:.4f}", f"{a['recall']:.4f}", f"{a['f1']:.4f}", total)
        parts += [per, confusion(names, c["confusion"])]
    else:
        g = r["regression"]
        t.add_row("R²", f"{g['r2']:.6f}")
        t.add_row("MAE", f"{g['mae']:.6g}")
        t.add_row("RMSE", f"{g['rmse']:.6g}")
        per_output = g["per_output"]
        if len(per_output["r2"]) > 1:
            out = Table("output", "R²", "MAE", "RMSE", title="Per output", title_justify="left", title_style="bold")
            names = model.prep.target_names or [str(k) for k in range(len(per_output["r2"]))]
            for k, label in enumerate(names):
                out.add_row(shown(label), f"{per_output['r2'][k]:.6f}", f"{per_output['mae'][k]:.6g}",
                            f"{per_output['rmse'][k]:.6g}")
            parts.append(out)
    return Group(*parts)
