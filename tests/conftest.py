"""Shared test set-up: a pinned console width, and hypothesis profiles."""

from __future__ import annotations

import os

from hypothesis import settings

# `TWONET_HYPOTHESIS=thorough python -m pytest` runs every property test far longer.
settings.register_profile("thorough", max_examples=400, deadline=None)
settings.load_profile(os.environ.get("TWONET_HYPOTHESIS", "default"))

os.environ["COLUMNS"] = "100"  # rendered tables are stable whatever the terminal
os.environ["NO_COLOR"] = "1"
