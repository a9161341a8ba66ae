"""`python -m twonet_cli` and the `twonet` script: the command line, with Ctrl-C during start-up
(while the modules import) an exit 130 like any other interrupt, not a traceback."""

import gc
import sys


def main() -> None:
    """Import and run the command line.

    The imports (numpy, Typer, rich, twonet) allocate hundreds of thousands of objects that all
    stay: the cyclic garbage collector is paused while they run (it would traverse them some hundred
    times, for nothing), and they are then frozen out of its later passes."""
    gc.disable()
    try:
        from .cli import run
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)
    finally:
        gc.freeze()
        gc.enable()
    run()


if __name__ == "__main__":
    main()
