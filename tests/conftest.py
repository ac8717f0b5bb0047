"""Test-suite wide settings: Hypothesis profiles, the `needs_dot` marker, and what CI insists on.

`ci` (chosen automatically when the CI environment variable is set) is derandomized, so a red CI
run reproduces exactly; neither profile has a deadline, because timing belongs in benchmarks.

Markers (registered in pyproject.toml): `@pytest.mark.slow` for tests that take seconds
(`make test-fast` leaves them out), and `@pytest.mark.needs_dot` for tests that render with
Graphviz's `dot`: they are skipped where it is missing, which CI does not allow.
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


def pytest_collection_modifyitems(config, items):
    if shutil.which("dot") is not None:
        return
    skip = pytest.mark.skip(reason="Graphviz's dot program is not installed")
    for item in items:
        if item.get_closest_marker("needs_dot") is not None:
            item.add_marker(skip)
