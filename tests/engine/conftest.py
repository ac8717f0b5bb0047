"""A real browser for the page tests: Playwright driving the system's Chromium.

Playwright's own browser download is not used (nor reachable everywhere): it launches the
Chromium the system has (`chromium` on PATH, or the path in GRADWALK_CHROMIUM). Without one the
browser tests skip locally; under CI they fail, because there they must run.

    def test_something(page):          # a fresh 1200 x 800 page per test
        page.goto(path.as_uri())
"""

from __future__ import annotations

import pytest
from browser_support import LAUNCH_ARGS, chromium_or_skip

VIEWPORT = {"width": 1200, "height": 800}


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session (starting one takes about a second)."""
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    """A fresh page (its own context: no state shared between tests) at 1200 x 800 CSS pixels.
    Any JavaScript error on the page fails the test."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    new_page = context.new_page()
    errors = []
    new_page.on("pageerror", lambda error: errors.append(str(error)))
    yield new_page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
