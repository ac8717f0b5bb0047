"""What every browser test needs: how to find and launch the system's Chromium.

Playwright's own browser download is not used (nor reachable everywhere): the tests launch the
Chromium the system has (`chromium` on PATH, or the path in GRADWALK_CHROMIUM). Without one the
browser tests skip locally; under CI they fail, because there they must run.
"""

from __future__ import annotations

import os
import shutil

import pytest

LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def find_chromium():
    """The Chromium to drive: GRADWALK_CHROMIUM, else the first of chromium, chromium-browser or
    google-chrome on PATH; None when there is none."""
    for name in (os.environ.get("GRADWALK_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def missing(what: str):
    """Skip the test for want of a browser, except under CI, where the browser tests must run."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {what}: the browser tests must run in CI")
    pytest.skip(f"{what}; the browser tests run in CI")


def chromium_or_skip() -> str:
    """The path of the Chromium to launch, once Playwright is known to be importable; otherwise
    the test skips (or fails under CI) saying what is missing."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing("Playwright is not installed (pip install -e '.[dev]')")
    executable = find_chromium()
    if executable is None:
        missing("Chromium is not installed (apt-get install chromium)")
    return executable
