"""The request-side scenarios every integration must pass, written once: each takes a
`Driver` and compares exact header values and body bytes, so the same settings are proven to
give byte-identical answers in every framework."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from tests.conftest import START
from tests.integrations.driver import AppSpec, Driver, Response
from throttle_core import FrozenClock, InMemoryStorage

RATE_HEADERS = (
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "retry-after",
)
RESET = str(int(START) + 60)
"""`X-RateLimit-Reset` of a one-minute window opened at the start."""


def problem(policies: str, seconds: int = 60) -> bytes:
    """The exact body of a 429 refused by `policies` (a comma-separated list)."""
    names = ",".join(f'"{name}"' for name in policies.split(", "))
    plural = "s" if seconds != 1 else ""
    return (
        '{"type":"https://iana.org/assignments/http-problem-types#quota-exceeded",'
        '"title":"Too Many Requests","status":429,'
        f'"detail":"Rate limit exceeded ({policies}); retry in {seconds} second{plural}.",'
        f'"violated-policies":[{names}],"retry_after":{seconds}}}'
    ).encode()


UNAVAILABLE = (
    b'{"type":"about:blank","title":"Service Unavailable","status":503,'
    b'"detail":"The rate limiter cannot reach its storage; try again later."}'
)


def rate_headers(response: Response) -> dict[str, str]:
    """The rate-limit headers of a response (and `Retry-After`), none of them sent twice."""
    assert not response.repeated & set(RATE_HEADERS), response.repeated
    return {name: response.headers[name] for name in RATE_HEADERS if name in response.headers}


def assert_refused(response: Response, body: bytes, headers: Mapping[str, str]) -> None:
    """A 429 with exactly this problem+json body and these rate-limit headers."""
    assert response.status == 429
    assert response.body == body
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["cache-control"] == "no-store"
    assert rate_headers(response) == headers


def memory() -> InMemoryStorage:
    """A storage on a frozen clock at `START`: every figure in the scenarios is exact."""
    return InMemoryStorage(clock=FrozenClock(START))


class BrokenStorage(InMemoryStorage):
    """A storage whose server is gone: every call raises."""

    def consume(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("storage down")

    async def aconsume(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("storage down")

    @property
    def never_waits(self) -> bool:
        return False


def statuses(driver: Driver, spec: AppSpec, requests: list[tuple[str, str]]) -> list[int]:
    with driver.client(spec) as client:
        return [client.request(method, path).status for method, path in requests]


def hundreds_then_429(driver: Driver) -> None:
    """200s up to the limit, then a 429 with Retry-After, the headers and the body."""
    spec = AppSpec({"LIMITS": ["3/minute"], "STORAGE": memory()})
    with driver.client(spec) as client:
        responses = [client.request("GET", "/") for _ in range(4)]
    assert [r.status for r in responses] == [200, 200, 200, 429]
    assert responses[0].body == b"hello"
    assert rate_headers(responses[0]) == {
        "ratelimit-policy": '"3-per-minute";q=3;w=60',
        "ratelimit": '"3-per-minute";r=2;t=60',
        "x-ratelimit-limit": "3",
        "x-ratelimit-remaining": "2",
        "x-ratelimit-reset": RESET,
    }
    assert_refused(
        responses[3],
        problem("3-per-minute"),
        {
            "retry-after": "60",
            "ratelimit-policy": '"3-per-minute";q=3;w=60',
            "ratelimit": '"3-per-minute";r=0;t=60',
            "x-ratelimit-limit": "3",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": RESET,
        },
    )


STYLES: dict[str, dict[str, str]] = {
    "ietf": {"ratelimit-policy": '"api";q=2;w=60', "ratelimit": '"api";r=1;t=60'},
    "draft-7": {"ratelimit": "limit=2, remaining=1, reset=60", "ratelimit-policy": "2;w=60"},
    "draft-6": {
        "ratelimit-limit": "2",
        "ratelimit-remaining": "1",
        "ratelimit-reset": "60",
        "ratelimit-policy": "2;w=60",
    },
    "legacy": {"x-ratelimit-limit": "2", "x-ratelimit-remaining": "1", "x-ratelimit-reset": RESET},
    "none": {},
}


def every_header_style(driver: Driver) -> None:
    """Each style alone gives exactly its fields; a 429 has Retry-After in every style."""
    for style, expected in STYLES.items():
        limit = {"policy": "fixed_window", "id": "api", "limit": 2, "interval": "1 minute"}
        spec = AppSpec({"LIMITS": [limit], "HEADERS": style, "STORAGE": memory()})
        with driver.client(spec) as client:
            first, _, refused = (client.request("GET", "/") for _ in range(3))
        assert rate_headers(first) == expected, style
        assert rate_headers(refused)["retry-after"] == "60", style
        assert refused.body == problem("api"), style


def several_limits_in_headers(driver: Driver) -> None:
    """Several limits on one request: IETF lists each; single-value styles the tightest; a
    refusal names the refusing limit with the longest retry."""
    limits = [
        {"limit": {"policy": "fixed_window", "limit": 2, "interval": "1s"}, "id": "burst"},
        {"limit": {"policy": "fixed_window", "limit": 100, "interval": "1h"}, "id": "hourly"},
    ]
    spec = AppSpec({"RULES": limits, "STORAGE": memory()})
    with driver.client(spec) as client:
        responses = [client.request("GET", "/") for _ in range(3)]
    assert rate_headers(responses[1]) == {
        "ratelimit-policy": '"burst";q=2;w=1, "hourly";q=100;w=3600',
        "ratelimit": '"burst";r=0;t=1, "hourly";r=98;t=3600',
        "x-ratelimit-limit": "2",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": str(int(START) + 1),
    }
    assert_refused(
        responses[2],
        problem("burst", 1),
        {
            "retry-after": "1",
            "ratelimit-policy": '"burst";q=2;w=1, "hourly";q=100;w=3600',
            "ratelimit": '"burst";r=0;t=1, "hourly";r=98;t=3600',
            "x-ratelimit-limit": "2",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(int(START) + 1),
        },
    )


def rules_by_path_and_method(driver: Driver) -> None:
    """A rule covers only the method and path it names; others carry no headers."""
    login = {"limit": "1/minute", "paths": [r"^/login$"], "methods": ["POST"], "id": "login"}
    spec = AppSpec({"RULES": [login], "STORAGE": memory()})
    with driver.client(spec) as client:
        gets = [client.request("GET", "/login") for _ in range(2)]
        posts = [client.request("POST", "/login") for _ in range(2)]
        elsewhere = client.request("POST", "/")
    assert [r.status for r in gets] == [200, 200]
    assert rate_headers(gets[0]) == {}
    assert [r.status for r in posts] == [200, 429]
    assert posts[1].body == problem("login")
    assert rate_headers(posts[0])["ratelimit"] == '"login";r=0;t=60'
    assert elsewhere.status == 200
    assert rate_headers(elsewhere) == {}


def exempt_routes_and_rules(driver: Driver) -> None:
    """An exempt rule's paths and the framework's exempt marker are never limited."""
    spec = AppSpec(
        {
            "LIMITS": "1/minute",
            "RULES": [{"exempt": True, "paths": [r"^/login$"]}],
            "STORAGE": memory(),
        }
    )
    with driver.client(spec) as client:
        for path in ("/login", "/health"):
            for _ in range(3):
                response = client.request("GET", path)
                assert response.status == 200, path
                assert rate_headers(response) == {}, path
        assert [client.request("GET", "/").status for _ in range(2)] == [200, 429]


def trusted_proxies(driver: Driver) -> None:
    """Behind a trusted proxy clients are told apart by X-Forwarded-For; from anyone else a
    rotating X-Forwarded-For (or Forwarded, or X-Real-IP) is one client."""
    spec = AppSpec({"LIMITS": ["1/minute"], "TRUSTED_PROXIES": ["10.0.0.0/8"], "STORAGE": memory()})
    with driver.client(spec) as client:

        def via(proxy: str, forwarded: str) -> int:
            headers = {"X-Forwarded-For": forwarded, "Forwarded": f"for={forwarded}"}
            return client.request("GET", "/", peer=proxy, headers=headers).status

        assert [via("10.0.0.2", a) for a in ("203.0.113.1", "203.0.113.2", "203.0.113.1")] == [
            200,
            200,
            429,
        ]
        assert [via("198.51.100.9", f"203.0.113.{n}") for n in range(10, 14)] == [
            200,
            429,
            429,
            429,
        ]


def fail_open(driver: Driver) -> None:
    """A storage that raises: requests go through, without rate-limit headers."""
    spec = AppSpec({"LIMITS": ["1/minute"], "STORAGE": BrokenStorage()})
    with driver.client(spec) as client:
        responses = [client.request("GET", "/") for _ in range(3)]
    assert [r.status for r in responses] == [200, 200, 200]
    assert responses[0].body == b"hello"
    assert rate_headers(responses[0]) == {}


def fail_closed(driver: Driver) -> None:
    """A storage that raises, with FAIL_OPEN off: a 503 problem+json, never a 500."""
    spec = AppSpec({"LIMITS": ["1/minute"], "STORAGE": BrokenStorage(), "FAIL_OPEN": False})
    with driver.client(spec) as client:
        response = client.request("GET", "/")
    assert response.status == 503
    assert response.body == UNAVAILABLE
    assert response.headers["content-type"] == "application/problem+json"
    assert rate_headers(response) == {}


def a_limit_on_one_view(driver: Driver) -> None:
    """A view's limit counts per view (the same limit on two views: two counters) and is
    described in the view's headers; an id shares one counter between views."""
    spec = AppSpec(
        {"STORAGE": memory()}, {"a": [{"limit": "2/minute"}], "b": [{"limit": "2/minute"}]}
    )
    with driver.client(spec) as client:
        a = [client.request("GET", "/a") for _ in range(3)]
        b = [client.request("GET", "/b") for _ in range(3)]
        plain = client.request("GET", "/")
    assert [r.status for r in a] == [200, 200, 429]
    assert [r.status for r in b] == [200, 200, 429]
    assert rate_headers(a[0]) == {
        "ratelimit-policy": '"2-per-minute";q=2;w=60',
        "ratelimit": '"2-per-minute";r=1;t=60',
        "x-ratelimit-limit": "2",
        "x-ratelimit-remaining": "1",
        "x-ratelimit-reset": RESET,
    }
    assert_refused(
        a[2],
        problem("2-per-minute"),
        {
            "retry-after": "60",
            "ratelimit-policy": '"2-per-minute";q=2;w=60',
            "ratelimit": '"2-per-minute";r=0;t=60',
            "x-ratelimit-limit": "2",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": RESET,
        },
    )
    assert plain.status == 200
    assert rate_headers(plain) == {}
    shared = {"limit": "2/minute", "id": "shared"}
    spec = AppSpec({"STORAGE": memory()}, {"a": [shared], "b": [dict(shared)]})
    assert statuses(driver, spec, [("GET", "/a"), ("GET", "/b"), ("GET", "/a")]) == [200, 200, 429]


def global_and_view_limits_in_one_response(driver: Driver) -> None:
    """A response covered by a global limit and its view's limit describes both."""
    spec = AppSpec(
        {"RULES": [{"limit": "10/minute", "id": "global"}], "STORAGE": memory()},
        {"a": [{"limit": "5/minute", "id": "view"}]},
    )
    with driver.client(spec) as client:
        first = client.request("GET", "/a")
    assert first.status == 200
    assert rate_headers(first) == {
        "ratelimit-policy": '"global";q=10;w=60, "view";q=5;w=60',
        "ratelimit": '"global";r=9;t=60, "view";r=4;t=60',
        "x-ratelimit-limit": "5",
        "x-ratelimit-remaining": "4",
        "x-ratelimit-reset": RESET,
    }


def compound_give_back(driver: Driver) -> None:
    """Global limits and a view's limits are one decision: a refusal by the view's limit
    takes nothing from the global one."""
    if not driver.compound_view_limits:
        pytest.skip(f"{driver.name} decides a view's limits after the global ones")
    spec = AppSpec(
        {"RULES": [{"limit": "5/minute", "id": "global"}], "STORAGE": memory()},
        {"a": [{"limit": "1/minute", "id": "view"}]},
    )
    with driver.client(spec) as client:
        responses = [client.request("GET", "/a") for _ in range(3)]
        plain = client.request("GET", "/")
    assert [r.status for r in responses] == [200, 429, 429]
    assert_refused(
        responses[2],
        problem("view"),
        {
            "retry-after": "60",
            "ratelimit-policy": '"global";q=5;w=60, "view";q=1;w=60',
            "ratelimit": '"global";r=4;t=60, "view";r=0;t=60',
            "x-ratelimit-limit": "1",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": RESET,
        },
    )
    # Two hits in one sliding window: the estimate floor(2·(1 − e/60)) is back to 0 only
    # 30 s into the next window.
    assert rate_headers(plain)["ratelimit"] == '"global";r=3;t=90'


def unmatched_routes_count(driver: Driver) -> None:
    """A request that ends in a 404 is counted by the global limits (scanners are limited)."""
    spec = AppSpec({"LIMITS": ["2/minute"], "STORAGE": memory()})
    with driver.client(spec) as client:
        responses = [client.request("GET", f"/probe-{n}") for n in range(3)]
        known = client.request("GET", "/")
    assert [r.status for r in responses] == [404, 404, 429]
    assert rate_headers(responses[0])["ratelimit"] == '"2-per-minute";r=1;t=60'
    assert responses[2].body == problem("2-per-minute")
    assert known.status == 429


SCENARIOS: list[Callable[[Driver], None]] = [
    hundreds_then_429,
    every_header_style,
    several_limits_in_headers,
    rules_by_path_and_method,
    exempt_routes_and_rules,
    trusted_proxies,
    fail_open,
    fail_closed,
    a_limit_on_one_view,
    global_and_view_limits_in_one_response,
    compound_give_back,
    unmatched_routes_count,
]
