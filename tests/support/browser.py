"""Debian's chromium through chromedriver, headless, for the console's
browser tests; no browser is ever downloaded.

Skipped with its reason when chromium or chromedriver is missing here; CI
sets EDGEBOX_TEST_BROWSER_REQUIRED=1, which turns that skip into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Read at import: the autouse fixture in conftest clears EDGEBOX_* for each test.
BROWSER_REQUIRED = os.environ.get("EDGEBOX_TEST_BROWSER_REQUIRED") == "1"


def browser_or_skip() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        reason = f"browser tests need {' and '.join(missing)} (apt-get install" \
            " chromium chromium-driver; .ci/run installs them)"  # fmt: skip
        if BROWSER_REQUIRED:
            pytest.fail(f"{reason} (and EDGEBOX_TEST_BROWSER_REQUIRED=1)")
        pytest.skip(reason)


@contextmanager
def headless_chromium(tmp_path: Path) -> Iterator[object]:
    """A driven chromium whose downloads land in `tmp_path/downloads`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--window-size=1280,900"):
        options.add_argument(flag)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads)}
    )
    driver = webdriver.Chrome(
        options=options, service=Service(executable_path=CHROMEDRIVER)
    )
    driver.execute_cdp_cmd(
        "Page.setDownloadBehavior",
        {"behavior": "allow", "downloadPath": str(downloads)},
    )
    driver.downloads = downloads  # type: ignore[attr-defined]
    try:
        yield driver
    finally:
        driver.quit()
