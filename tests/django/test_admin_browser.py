"""The admin in a real headless Chromium against a live server: log in as a superuser, search
for a state, reset it with the action, and see it gone."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.conftest import IN_CI
from throttle_core import RateLimiterFactory
from throttle_django.models import State
from throttle_django.storage import ModelStorage

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture
def browser() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None or shutil.which(CHROMEDRIVER) is None:
        message = (
            f"{CHROMIUM} and {CHROMEDRIVER} are needed (apt-get install chromium chromium-driver)"
        )
        if IN_CI:
            pytest.fail(message + " (CI=true: a missing browser is a failure)")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="throttle-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_search_and_reset_in_the_browser(browser: Any, live_server: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import Select, WebDriverWait

    User.objects.create_superuser("admin", "admin@example.com", "secret-pw")
    factory = RateLimiterFactory("3/minute", ModelStorage())
    for key in ("alice", "bob", "carol"):
        factory.create(key).consume()

    browser.get(f"{live_server.url}/admin/login/?next=/admin/throttle_django/state/")
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys("secret-pw")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 30).until(expected_conditions.title_contains("rate-limit state"))
    assert "Select rate-limit state to view" in browser.page_source
    assert len(browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")) == 3

    search = browser.find_element(By.ID, "searchbar")
    search.send_keys("bob")
    search.submit()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("q=bob"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert [row.find_element(By.CSS_SELECTOR, "th").text for row in rows] == ["3-per-minute:bob"]
    assert "sliding_window" in rows[0].text

    rows[0].find_element(By.CSS_SELECTOR, "input.action-select").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("reset_selected")
    browser.find_element(By.NAME, "index").click()
    assert "Reset 1 rate-limit state." in browser.find_element(By.CSS_SELECTOR, ".messagelist").text
    assert sorted(State.objects.values_list("id", flat=True)) == [
        "3-per-minute:alice",
        "3-per-minute:carol",
    ]
    assert "3-per-minute:bob" not in browser.page_source
