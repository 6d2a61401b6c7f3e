"""The console in a real browser (Debian's chromium through chromedriver,
headless): a real box triages an emergency with the real model and syncs it
to a real central server on 127.0.0.1; a coordinator logs in, finds it on the
emergencies page, opens it and exports the list as CSV.

Skipped with its reason when chromium or chromedriver is missing here; CI
sets EDGEBOX_TEST_BROWSER_REQUIRED=1, which turns that skip into a failure.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import browser_or_skip
from tests.support.central import Central, running_central
from tests.support.console import PASSWORD, add_user
from tests.support.paths import REPO
from tests.support.processes import run_cli, wait_for

SCREENSHOT = REPO / "docs" / "console-emergencies.png"
LETTER = (
    "Referral letter\n\nPatient: 4 year old girl brought by her mother.\n"
    "She had convulsions this morning and is now unconscious, not responding.\n"
    "Temperature 40.1 C. Please see urgently.\n"
)

pytestmark = [pytest.mark.slow, pytest.mark.model]


@pytest.fixture(scope="module")
def triaged_box(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A box home whose emergency referral the real model triaged (once)."""
    browser_or_skip()
    home = tmp_path_factory.mktemp("box") / "home"
    assert run_cli("init", str(home)).returncode == 0
    (home / "inbox" / "referral.txt").write_text(LETTER, encoding="utf-8")
    processed = run_cli("process", "--json", env={"EDGEBOX_HOME": str(home)})
    assert processed.returncode == 0, processed.stderr
    return home


@pytest.fixture
def synced(
    triaged_box: Path,
    central_db_url: str,
    tmp_path: Path,
) -> Iterator[Central]:
    """A central server (per backend) that a copy of the box synced to."""
    home = tmp_path / "box"
    shutil.copytree(triaged_box, home)
    with running_central(central_db_url, tmp_path) as central:
        token = central.add_device("clinic-kisoro")
        env = {
            "EDGEBOX_HOME": str(home),
            "EDGEBOX_SYNC_URL": central.url,
            "EDGEBOX_SYNC_DEVICE": "clinic-kisoro",
            "EDGEBOX_SYNC_TOKEN": token,
        }
        pushed = run_cli("sync", "--once", env=env)
        assert pushed.returncode == 0, pushed.stderr
        yield central


def test_a_coordinator_sees_opens_and_exports_a_synced_emergency(
    synced: Central,
    browser: object,
    central_db_url: str,
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    add_user(synced, "coordinator", "viewer")
    driver.get(synced.url + "/console/emergencies")  # type: ignore[attr-defined]
    assert "/console/login" in driver.current_url  # type: ignore[attr-defined]
    driver.find_element(By.ID, "name").send_keys("coordinator")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "password").send_keys(PASSWORD)  # type: ignore[attr-defined]
    driver.find_element(By.ID, "login").click()  # type: ignore[attr-defined]
    # The login's answer must be in before the next page is asked for: a
    # busy database can still be writing the session when click() returns.
    wait_for(
        lambda: "/console/login" not in driver.current_url,  # type: ignore[attr-defined]
        timeout_s=30,
        what="the console to sign the coordinator in",
    )
    driver.get(synced.url + "/console/emergencies")  # type: ignore[attr-defined]
    rows = driver.find_elements(By.CSS_SELECTOR, "#documents tbody tr")  # type: ignore[attr-defined]
    assert len(rows) == 1
    cells = [c.text for c in rows[0].find_elements(By.TAG_NAME, "td")]
    assert cells[2] == "clinic-kisoro" and cells[4] == "emergency"
    if central_db_url.startswith("sqlite"):
        SCREENSHOT.parent.mkdir(exist_ok=True)
        driver.save_screenshot(str(SCREENSHOT))  # type: ignore[attr-defined]
    rows[0].find_element(By.LINK_TEXT, cells[3]).click()
    heading = driver.find_element(By.TAG_NAME, "h1").text  # type: ignore[attr-defined]
    assert heading == f"Document {cells[3]} — clinic-kisoro"
    page = driver.page_source  # type: ignore[attr-defined]
    assert "Revisions" in page and "Red flags" in page
    driver.back()  # type: ignore[attr-defined]
    driver.find_element(By.ID, "csv").click()  # type: ignore[attr-defined]
    downloads: Path = driver.downloads  # type: ignore[attr-defined]
    exported = wait_for(
        lambda: [p for p in downloads.glob("*.csv")], timeout_s=30, what="the CSV"
    )
    with exported[0].open(encoding="utf-8") as handle:  # type: ignore[index]
        table = list(csv.DictReader(handle))
    assert [(r["clinic"], r["urgency"]) for r in table] == [
        ("clinic-kisoro", "emergency")
    ]
