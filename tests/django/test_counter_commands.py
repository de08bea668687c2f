"""throttle_reset and throttle_inspect: their output and their effect on the storage the
settings name (the database by default, a URL storage, the limits of views too)."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from throttle_django.models import State

BUCKET = {"policy": "token_bucket", "limit": 5, "rate": {"interval": "1 minute", "amount": 5}}
LOGIN = {"limit": BUCKET, "paths": ["^/login/$"], "id": "login"}
"""A bucket refills one token in 12 s, so the figures below hold however slow the run."""
MIDDLEWARE = ["throttle_django.middleware.RateLimitMiddleware"]


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def traffic(times: int, path: str = "/login/") -> None:
    client = Client()
    for _ in range(times):
        client.get(path, REMOTE_ADDR="203.0.113.7")


def settings(**throttle: Any) -> Any:
    return override_settings(
        THROTTLE={"RULES": [LOGIN], **throttle},
        MIDDLEWARE=MIDDLEWARE,
        ROOT_URLCONF="tests.django.limited_urls",
    )


@pytest.mark.django_db
def test_inspect_reports_policy_remaining_and_reset_then_reset_forgets() -> None:
    with settings():
        traffic(2)
        report = run("throttle_inspect", "login", "203.0.113.7")
        assert "login:203.0.113.7" in report
        assert "token_bucket" in report
        assert "3 of 5 now" in report
        assert "full again" in report
        data = json.loads(run("throttle_inspect", "login", "203.0.113.7", "--json"))
        assert data["remaining"] == 3
        assert data["policy"] == "token_bucket"
        assert data["reset_after"] > 0
        assert run("throttle_reset", "login", "203.0.113.7") == (
            "Reset 1 rate-limit counter (login:203.0.113.7).\n"
        )
        assert not State.objects.exists()
        assert run("throttle_reset", "login", "203.0.113.7") == (
            "Reset 0 rate-limit counters: nothing was stored as login:203.0.113.7.\n"
        )
        assert "5 of 5 now" in run("throttle_inspect", "login", "203.0.113.7")


@pytest.mark.django_db
def test_inspect_finds_the_limit_of_a_view() -> None:
    with settings():
        traffic(1, "/shared-one/")
        report = run("throttle_inspect", "shared", "203.0.113.7")
    assert "sliding_window, 3 per minute" in report
    assert "No configured limit" not in report


@pytest.mark.django_db
def test_inspect_without_a_configured_limit_says_so() -> None:
    with settings():
        report = run("throttle_inspect", "nothing", "203.0.113.7")
    assert "No configured limit has the id 'nothing'" in report


def test_commands_use_the_storage_the_settings_name() -> None:
    with settings(STORAGE="tests.django.storages.SHARED"):
        from tests.django.storages import SHARED

        SHARED.clear()
        traffic(4)
        assert "1 of 5 now" in run("throttle_inspect", "login", "203.0.113.7")
        assert run("throttle_reset", "login", "203.0.113.7").startswith("Reset 1 ")


def test_a_bad_setting_is_a_command_error() -> None:
    with (
        override_settings(THROTTLE={"STORAGE": "cache://default"}),
        pytest.raises(CommandError, match="cannot decide atomically"),
    ):
        run("throttle_reset", "login")
