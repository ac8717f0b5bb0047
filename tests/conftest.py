"""Test-suite wide settings: Hypothesis profiles, and what CI insists on.

`ci` (chosen automatically when the CI environment variable is set) is derandomized, so a red CI
run reproduces exactly; neither profile has a deadline, because timing belongs in benchmarks.
"""

import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=200, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def pytest_configure(config):
    # Locally, rendering tests skip when Graphviz is absent; in CI they must run, so a missing
    # `dot` there is an error rather than a row of quiet skips.
    if os.environ.get("CI") and shutil.which("dot") is None:
        raise pytest.UsageError("CI is set but Graphviz's `dot` is not installed (apt-get install graphviz)")
