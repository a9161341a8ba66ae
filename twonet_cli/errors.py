"""One small exception family. The CLI turns each into one line on stderr and an exit code."""

from __future__ import annotations

# Exit codes, documented in README.md and `twonet --help`.
EXIT_OK = 0
EXIT_MISMATCH = 1  # a check found a mismatch, or training diverged
EXIT_BAD_INPUT = 2  # usage, config, data or shape error
EXIT_INTERRUPTED = 130  # Ctrl-C, after saving what was reached (the shell's 128 + SIGINT)


class TwonetError(Exception):
    """Base of every error twonet reports to a user; the message is one line."""

    exit_code = EXIT_BAD_INPUT


class ConfigError(TwonetError):
    """A config file or override is malformed: message names the file and the dotted key."""


class InputError(TwonetError):
    """An input, target or params file (or inline value) is unreadable or has the wrong shape."""


class ShapeError(InputError):
    """Arrays do not fit the network's architecture."""


class MissingExtraError(TwonetError):
    """An option needs an optional dependency that is not installed (e.g. --plot needs matplotlib)."""
