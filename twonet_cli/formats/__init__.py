"""File formats read into arrays and written back: text and YAML read safely, CSV, NPY/NPZ, JSON,
inline values, parameter files, atomic writes. Knows no config and no network."""
