"""Output: rich tables per command, the training progress bar, plots and the one JSON layer.
Everything here returns things to print; only cli.py writes to stdout and stderr."""
