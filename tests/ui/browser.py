"""Headless Chromium for the UI tests: Debian's `chromium` driven by Playwright for Python.

Never `playwright install`: the browser is the system package (`.ci/run` installs it), so the
tests skip with a reason when it or the Python package is missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
#: Set to 1 (`make screenshots`) to refresh docs/screenshots/; otherwise pages are still
#: rendered and checked, but nothing is written, so a test run leaves the tree clean.
SCREENSHOTS_ENV = "SMSGW_SCREENSHOTS"


def screenshots_wanted(env: Mapping[str, str] | None = None) -> bool:
    return (os.environ if env is None else env).get(SCREENSHOTS_ENV, "") not in ("", "0")


def chromium_path() -> str | None:
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


def skip_reason() -> str | None:
    if chromium_path() is None:
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install 'smsgw[test]')"
    return None


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    reason = skip_reason()
    if reason is not None:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
