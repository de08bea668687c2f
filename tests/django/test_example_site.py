"""The example Django site: its views and rules through the test client. `make demo`'s Django
program, which migrates a SQLite file and serves the site with two gunicorn workers counting
in it, is run by tests/e2e/test_demos.py."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator

import pytest
from django.test import Client, override_settings

from example_projects.django_site import settings as site_settings

SITE = {
    "ROOT_URLCONF": "example_projects.django_site.urls",
    "MIDDLEWARE": site_settings.MIDDLEWARE,
}


@pytest.fixture
def site(db: None) -> Iterator[Client]:
    """The site on the test database, without its limit on every request (the tests count
    the login rule and the API limit alone)."""
    throttle = {**site_settings.THROTTLE, "STORAGE": "django://", "LIMITS": []}
    with override_settings(THROTTLE=throttle, **SITE):
        yield Client()


def test_login_rule_api_limit_and_exempt_health(site: Client) -> None:
    index = site.get("/")
    assert index.status_code == 200
    assert "worker" in json.loads(index.content)
    logins = [site.post("/login", {"password": "guess"}).status_code for _ in range(3)]
    assert logins == [401, 401, 401]
    assert site.post("/login", {"password": "demo"}).status_code == 429
    api = [site.get("/api/items", headers={"X-Api-Key": "k"}).status_code for _ in range(3)]
    assert api == [200, 200, 429]
    assert site.get("/api/items", headers={"X-Api-Key": "other"}).status_code == 200
    assert [site.get("/health").status_code for _ in range(3)] == [200] * 3


@pytest.mark.django_db
def test_the_limit_on_every_request() -> None:
    with override_settings(THROTTLE={**site_settings.THROTTLE, "STORAGE": "django://"}, **SITE):
        client = Client()
        assert [client.get("/").status_code for _ in range(6)] == [200] * 5 + [429]
        assert client.get("/health").status_code == 200


def test_a_successful_login_forgets_the_failed_ones(site: Client) -> None:
    assert [site.post("/login", {"password": "guess"}).status_code for _ in range(2)] == [401, 401]
    assert site.post("/login", {"password": "demo"}).status_code == 200
    again = [site.post("/login", {"password": "guess"}).status_code for _ in range(4)]
    assert again == [401, 401, 401, 429]


def test_throttle_rules_from_the_environment_replace_the_login_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rules = [{"limit": "1/minute", "id": "everything"}]
    monkeypatch.setenv("THROTTLE_RULES", json.dumps(rules))
    monkeypatch.setenv("THROTTLE_LIMIT", "")
    try:
        reloaded = importlib.reload(site_settings)
        assert reloaded.THROTTLE["RULES"] == rules
        assert reloaded.THROTTLE["LIMITS"] == []
    finally:
        monkeypatch.undo()
        importlib.reload(site_settings)
