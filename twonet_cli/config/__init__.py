"""The config: its schema as frozen dataclasses, config files and shipped configs, `--set`
overrides. Reads no data file."""
