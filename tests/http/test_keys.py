"""Keys: what each built-in key and a callable count a request by."""

from __future__ import annotations

from typing import Any

import pytest

from throttle_core import ConfigError
from throttle_core.http import ClientAddress, Headers, RequestView
from throttle_core.http.keys import aresolve, check_key, resolve, resolver

VIEW = RequestView(
    "POST",
    "/api/items",
    "10.0.0.5",
    Headers([("X-Forwarded-For", "203.0.113.9"), ("X-Api-Key", " k-123 ")]),
    user="42",
    request={"framework": "request"},
)
CLIENT = ClientAddress(["10.0.0.0/8"])


@pytest.mark.parametrize(
    ("spec", "view", "expected"),
    [
        ("ip", VIEW, "203.0.113.9"),
        ("user", VIEW, "user:42"),
        ("user_or_ip", VIEW, "user:42"),
        ("user", RequestView("GET", "/", "198.51.100.1"), "198.51.100.1"),
        ("user_or_ip", RequestView("GET", "/", "198.51.100.1"), "198.51.100.1"),
        ("header:X-API-KEY", VIEW, "k-123"),
        ("header:X-Missing", VIEW, None),
        ("path", VIEW, "/api/items"),
        ("method", VIEW, "POST"),
        (lambda request: request["framework"], VIEW, "request"),
        (lambda request: None, VIEW, None),
        (lambda request: "  ", VIEW, None),
        (lambda request: 7, VIEW, "7"),
    ],
)
def test_key_of_a_request(spec: Any, view: RequestView, expected: str | None) -> None:
    assert resolve(resolver(spec, CLIENT), view) == expected


async def test_async_key_functions_are_awaited() -> None:
    async def tenant(request: Any) -> str:
        return "tenant-" + str(request["framework"])

    assert await aresolve(resolver(tenant, CLIENT), VIEW) == "tenant-request"
    assert await aresolve(resolver("path", CLIENT), VIEW) == "/api/items"


def test_an_async_key_function_on_the_sync_path_says_so() -> None:
    async def tenant(request: Any) -> str:
        return "t"

    with pytest.raises(TypeError, match="key function is async"):
        resolve(resolver(tenant, CLIENT), VIEW)


@pytest.mark.parametrize("spec", ["address", "header:", "header:  ", "", 5, None])
def test_unknown_keys_are_refused_with_the_choices(spec: Any) -> None:
    with pytest.raises(ConfigError, match=r"key must be a callable or one of ip, user"):
        check_key(spec)
