"""Proxy headers: a client that rotates `X-Forwarded-For`, `Forwarded` and `X-Real-IP` values
from an untrusted address is limited as one client; behind a trusted proxy the right-most
untrusted address of the one header that proxy writes is the client, whatever else a client
sent."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from tests.e2e.harness import Serve
from tests.e2e.load import Request, burst

pytestmark = [pytest.mark.slow, pytest.mark.redis]

REQUESTS = 10_000
LIMIT = 50


def random_address(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return f"2001:db8:{rng.randrange(65536):x}::{rng.randrange(65536):x}"
    return ".".join(str(rng.randrange(1, 255)) for _ in range(4))


def spoofed(rng: random.Random) -> dict[str, str]:
    """Headers an attacker makes up: a fresh chain in each of the three proxy headers."""
    chain = [random_address(rng) for _ in range(rng.randrange(1, 4))]
    forwarded = ", ".join(f'for="[{a}]"' if ":" in a else f"for={a}" for a in chain)
    return {
        "X-Forwarded-For": ", ".join(chain),
        "Forwarded": forwarded,
        "X-Real-IP": random_address(rng),
    }


def test_rotating_proxy_headers_from_an_untrusted_client_count_as_one_client(
    serve_on_redis: Serve,
) -> None:
    rng = random.Random(14)
    env = {
        "THROTTLE_LIMIT": f"{LIMIT}/day",
        "THROTTLE_POLICY": "fixed_window",
        "THROTTLE_TRUSTED_PROXIES": "10.0.0.0/8",
    }
    requests = [Request(headers=spoofed(rng)) for _ in range(REQUESTS)]
    with serve_on_redis(env, workers=2) as server:
        answers = burst(server.url, requests, concurrency=16, keep_alive=True)
    statuses = [a.status for a in answers]
    assert (statuses.count(200), statuses.count(429)) == (LIMIT, REQUESTS - LIMIT)


WRITTEN: dict[str, Callable[[list[str]], dict[str, str]]] = {
    "x-forwarded-for": lambda chain: {"X-Forwarded-For": ", ".join(chain)},
    "forwarded": lambda chain: {"Forwarded": ", ".join(f"for={a}" for a in chain)},
    "x-real-ip": lambda chain: {"X-Real-IP": chain[-1]},
}


@pytest.mark.parametrize("proxy_header", list(WRITTEN))
def test_behind_a_trusted_proxy_the_right_most_untrusted_address_counts(
    serve_on_redis: Serve, proxy_header: str
) -> None:
    """The proxy (127.0.0.1) and an inner one (10.0.0.0/8) are trusted; `proxy_header` is
    what they write; the client behind them is 198.51.100.7, who may put anything in front
    of it and in the other headers."""
    rng = random.Random(proxy_header)
    limit = 5
    env = {
        "THROTTLE_LIMIT": f"{limit}/day",
        "THROTTLE_TRUSTED_PROXIES": "127.0.0.1,10.0.0.0/8",
        "THROTTLE_PROXY_HEADER": proxy_header,
    }

    def via_proxy(client: str) -> Request:
        chain = [random_address(rng), client, "10.1.2.3"]
        headers = spoofed(rng) | WRITTEN[proxy_header](chain)
        if proxy_header == "x-real-ip":
            headers["X-Real-IP"] = client
        return Request(headers=headers)

    first = [via_proxy("198.51.100.7") for _ in range(limit + 3)]
    second = [via_proxy("198.51.100.8") for _ in range(2)]
    with serve_on_redis(env, workers=2) as server:
        answers = burst(server.url, first, concurrency=4)
        others = burst(server.url, second, concurrency=1)
    statuses = [a.status for a in answers]
    assert (statuses.count(200), statuses.count(429)) == (limit, 3)
    assert [a.status for a in others] == [200, 200]
    assert others[-1].headers["X-RateLimit-Remaining"] == str(limit - 2)
