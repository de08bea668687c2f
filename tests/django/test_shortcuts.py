"""check/acheck and reset/areset: limits in code, on the settings' storage and keys."""

from __future__ import annotations

import pytest
from django.http import HttpRequest
from django.test import RequestFactory, override_settings

from tests.integrations.scenarios import memory
from throttle_core import ConfigError
from throttle_django import acheck, areset, check, reset

factory = RequestFactory()


def request(address: str = "203.0.113.7") -> HttpRequest:
    return factory.post("/login/", REMOTE_ADDR=address)


def test_check_counts_peeks_and_reset_forgets() -> None:
    with override_settings(THROTTLE={"STORAGE": memory()}):
        alice = request()
        taken = [check(alice, "3/minute", id="login").allowed for _ in range(4)]
        assert taken == [True, True, True, False]
        peek = check(alice, "3/minute", id="login", cost=0)
        assert peek.rate_limit is not None
        assert peek.rate_limit.remaining == 0
        assert peek.status == 429
        assert peek.violated == ("login",)
        assert peek.retry_after is not None
        assert peek.retry_after > 0
        assert check(request("203.0.113.9"), "3/minute", id="login", cost=0).allowed
        assert check(request("203.0.113.8"), "3/minute", id="login").allowed
        refused = check(alice, "3/minute", id="login")
        assert refused.status == 429
        assert refused.retry_after is not None
        assert refused.retry_after > 0
        assert refused.violated == ("login",)
        assert reset(alice, id="login") is True
        assert reset(alice, id="login") is False
        assert check(alice, "3/minute", id="login").allowed


def test_check_with_a_header_key_and_a_dict() -> None:
    limit = {"policy": "fixed_window", "limit": 1, "interval": "1 hour"}
    with override_settings(THROTTLE={"STORAGE": memory()}):
        first = factory.get("/", HTTP_X_API_KEY="k1")
        second = factory.get("/", HTTP_X_API_KEY="k1", REMOTE_ADDR="198.51.100.2")
        assert check(first, limit, id="api", key="header:X-Api-Key").allowed
        assert not check(second, limit, id="api", key="header:X-Api-Key").allowed
        assert reset(second, id="api", key="header:X-Api-Key")


async def test_async_twins() -> None:
    with override_settings(THROTTLE={"STORAGE": memory()}):
        alice = request()
        assert [(await acheck(alice, "1/minute", id="a")).allowed for _ in range(2)] == [
            True,
            False,
        ]
        assert await areset(alice, id="a")
        assert (await acheck(alice, "1/minute", id="a")).allowed


def test_an_id_is_required() -> None:
    with (
        override_settings(THROTTLE={"STORAGE": memory()}),
        pytest.raises(ConfigError, match="counter's id"),
    ):
        check(request(), "1/minute", id="")
