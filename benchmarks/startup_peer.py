"""The start-up peer: the least a Typer + rich + numpy command does — parse three options, build a
small numpy array, print it as one rich table. `bench_startup.py` times `twonet grads` against it."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False)


@app.command()
def show(rows: Annotated[int, typer.Option()] = 3, cols: Annotated[int, typer.Option()] = 2,
         seed: Annotated[int, typer.Option()] = 0) -> None:
    """Print a random rows × cols array as a table."""
    a = np.random.default_rng(seed).normal(size=(rows, cols))
    t = Table(*(f"c{j}" for j in range(cols)))
    for r in a:
        t.add_row(*(f"{v:.6f}" for v in r))
    Console().print(t)


if __name__ == "__main__":
    app()
