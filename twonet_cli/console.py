"""The command line's edge to the terminal: the one stderr console, one-line errors, and the
place where twonet's exceptions become an exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape

from .errors import EXIT_BROKEN_PIPE, TwonetError, printable

if not os.environ.get("COLUMNS", "1").isdigit() or os.environ.get("COLUMNS") == "0":
    del os.environ["COLUMNS"]  # COLUMNS=0 or junk: let rich measure the terminal (or take 80)
err_console = Console(stderr=True, highlight=False)  # every message on stderr goes through this console


@contextmanager
def reported() -> Iterator[None]:
    """Turn twonet's errors into one red line on stderr and their exit code (the one place this happens)."""
    import numpy as np  # here, not at import: `twonet --help` and `--version` need no numpy

    try:
        with np.errstate(all="ignore"):  # overflow is detected by checking results, not by warnings
            yield
    except TwonetError as e:
        error_line(str(e))
        raise typer.Exit(e.exit_code) from None
    except BrokenPipeError:  # the reader of stdout stopped early (`| head`): quiet, as shell tools are
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to write there
        raise typer.Exit(EXIT_BROKEN_PIPE) from None


def shown(text: object) -> str:
    """The one rule for any text that came from a file or an argument (a config's description, a
    header's names, a path, a label) when rich prints it: control characters escaped, markup too."""
    return escape(printable(str(text)))


def error_line(message: str) -> None:
    """One line on stderr, whatever the message quotes (``shown``)."""
    err_console.print(f"[bold red]Error:[/bold red] {shown(message)}", soft_wrap=True)
