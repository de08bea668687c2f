"""The example Django site: its views and rules through the test client. `make demo`'s Django
program, which migrates a SQLite file and serves the site with two gunicorn workers counting
in it, is run by tests/e2e/test_demos.py."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from example_projects.django_site import settings as site_settings
from example_projects.django_site.databases import database

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


def test_the_site_database_is_a_sqlite_path_or_a_postgresql_url() -> None:
    postgres = database("postgresql://site:p%40ss@127.0.0.1:5433/site_db")
    assert postgres["ENGINE"] == "django.db.backends.postgresql"
    assert (postgres["NAME"], postgres["USER"], postgres["PASSWORD"]) == ("site_db", "site", "p@ss")
    assert (postgres["HOST"], postgres["PORT"]) == ("127.0.0.1", "5433")
    sqlite = database("/tmp/site.sqlite3")
    assert (sqlite["ENGINE"], sqlite["NAME"]) == ("django.db.backends.sqlite3", "/tmp/site.sqlite3")


@pytest.mark.parametrize("value", ["mysql://root@127.0.0.1/site", "postgresql://127.0.0.1"])
def test_a_bad_site_database_names_the_variable(value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SITE_DATABASE"):
        database(value)
