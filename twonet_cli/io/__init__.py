"""Everything read or written: config files and their schema, command-line values and files as
arrays, and the run directory a training run saves into."""
