"""The users page in a real browser (Debian's chromium, headless): an admin
adds a viewer through the form, the viewer is refused the page, and the
admin disables the viewer, whose other session ends at once. No model here:
the accounts are the point. Skipped like tests/test_console_browser.py when
chromium is missing (a failure where CI requires the browser)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import browser_or_skip
from tests.support.central import Central, running_central
from tests.support.console import PASSWORD, add_user, login
from tests.support.processes import wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def central(central_db_url: str, tmp_path: Path) -> Iterator[Central]:
    browser_or_skip()
    with running_central(central_db_url, tmp_path) as server:
        yield server


def _sign_in(driver: object, url: str, name: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(url + "/console/login")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "name").send_keys(name)  # type: ignore[attr-defined]
    driver.find_element(By.ID, "password").send_keys(PASSWORD)  # type: ignore[attr-defined]
    driver.find_element(By.ID, "login").click()  # type: ignore[attr-defined]
    _settle(driver, lambda d: "/console/login" not in d.current_url)


def _sign_out(driver: object, url: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(url + "/console/")  # type: ignore[attr-defined]
    driver.find_element(By.CSS_SELECTOR, "header form button").click()  # type: ignore[attr-defined]
    _settle(driver, lambda d: "/console/login" in d.current_url)


def _settle(driver: object, done: Callable[[Any], object]) -> None:
    """Wait for the navigation a click started (a click does not wait)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(done)  # type: ignore[arg-type]


def _row(driver: object, name: str) -> list[str]:
    """The cells of a user's row (none while the page is being replaced)."""
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.common.by import By

    try:
        row = driver.find_element(By.CSS_SELECTOR, f'tr[data-user="{name}"]')  # type: ignore[attr-defined]
        return [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
    except (NoSuchElementException, StaleElementReferenceException):
        return []


def test_an_admin_adds_and_disables_a_viewer_in_the_browser(
    central: Central,
    browser: object,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser
    add_user(central, "amina", "admin")
    _sign_in(driver, central.url, "amina")
    driver.get(central.url + "/console/users")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "new-name").send_keys("moses")  # type: ignore[attr-defined]
    Select(driver.find_element(By.ID, "new-role")).select_by_value("viewer")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "new-password").send_keys(PASSWORD)  # type: ignore[attr-defined]
    driver.find_element(By.ID, "add").click()  # type: ignore[attr-defined]
    _settle(driver, lambda d: d.find_elements(By.ID, "added"))
    assert driver.find_element(By.ID, "added").text == "User moses added."  # type: ignore[attr-defined]
    assert _row(driver, "moses")[:3] == ["moses", "viewer", "no"]
    _sign_out(driver, central.url)

    # The new viewer signs in: no users link, and the page itself is refused.
    _sign_in(driver, central.url, "moses")
    nav = driver.find_element(By.TAG_NAME, "nav").text  # type: ignore[attr-defined]
    assert "Clinics" in nav and "Users" not in nav
    driver.get(central.url + "/console/users")  # type: ignore[attr-defined]
    assert "admins only" in driver.page_source  # type: ignore[attr-defined]
    _sign_out(driver, central.url)

    # Signed in elsewhere too; the admin disables the account from the page.
    elsewhere = httpx.Client(base_url=central.url, timeout=30)
    try:
        assert login(elsewhere, "moses").status_code == 303
        assert elsewhere.get("/console/").status_code == 200
        _sign_in(driver, central.url, "amina")
        driver.get(central.url + "/console/users")  # type: ignore[attr-defined]
        row = driver.find_element(By.CSS_SELECTOR, 'tr[data-user="moses"]')  # type: ignore[attr-defined]
        row.find_element(By.TAG_NAME, "button").click()
        wait_for(
            lambda: _row(driver, "moses")[:3] == ["moses", "viewer", "yes"],
            timeout_s=30,
            what="moses shown as disabled",
        )
        assert elsewhere.get("/console/").status_code == 303
    finally:
        elsewhere.close()
