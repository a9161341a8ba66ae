"""`python -m twonet_cli` and the `twonet` script: the command line, with Ctrl-C during start-up
(while the modules import) an exit 130 like any other interrupt, not a traceback."""

import sys


def main() -> None:
    """Import and run the command line."""
    try:
        from .cli import run
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)
    run()


if __name__ == "__main__":
    main()
