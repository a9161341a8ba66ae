"""`python -m twonet_cli` runs the `twonet` command line."""

from .cli import run

run()
