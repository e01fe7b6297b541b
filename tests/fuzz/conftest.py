"""Hypothesis budgets for the fuzz tests: small by default (CI), larger with ``YIWANG_FUZZ_EXAMPLES``."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("YIWANG_FUZZ_EXAMPLES", "40"))

settings.register_profile(
    "yiwang-fuzz",
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("YIWANG_FUZZ_RANDOM", "") == "",  # CI: the same examples every run
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
FUZZ = settings.get_profile("yiwang-fuzz")
