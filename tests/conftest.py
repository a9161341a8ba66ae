"""Shared test set-up: a pinned console width, and hypothesis profiles.

The default profile, ``ci``, is derandomized (the same examples on every run and machine) with no
example database, so the suite cannot flake. For longer local runs pick another profile:

    python -m pytest --hypothesis-profile dev        # random examples, a few times more of them
    python -m pytest --hypothesis-profile thorough   # random, 20x the examples
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_common = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=40, derandomize=True, database=None, print_blob=True, **_common)
settings.register_profile("dev", max_examples=150, **_common)
settings.register_profile("thorough", max_examples=800, **_common)
settings.load_profile(os.environ.get("TWONET_HYPOTHESIS", "ci"))  # --hypothesis-profile NAME overrides this

os.environ["COLUMNS"] = "100"  # rendered tables are stable whatever the terminal
os.environ["NO_COLOR"] = "1"
