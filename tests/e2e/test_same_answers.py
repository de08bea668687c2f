"""The same settings and the same request sequence give the same rate-limit headers, status
codes and refusal bodies in every framework: each framework's answers are compared with the
recorded expectation (`same_answers.json`, checked by hand against the documented headers)
and with each other's.

The limits are token buckets, whose numbers do not depend on the time of day; the only
clock-dependent value, `X-RateLimit-Reset` (epoch seconds), is checked against the time of
the response and then replaced by its offset from `t`."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.harness import FRAMEWORKS, Framework, Serve

pytestmark = [pytest.mark.slow, pytest.mark.redis]

EXPECTED = Path(__file__).with_name("same_answers.json")
SETTINGS = {
    "THROTTLE_LIMIT": "4/day;10/day",
    "THROTTLE_POLICY": "token_bucket",
    "THROTTLE_RULES": json.dumps([
        {"limit": {"policy": "token_bucket", "id": "probe", "limit": 2,
                   "rate": {"interval": "1 hour", "amount": 2}}, "paths": ["^/nowhere"]},
    ]),
    "THROTTLE_TRUSTED_PROXIES": "127.0.0.1",
}  # fmt: skip
"""Two token buckets on every request and a third, named one, on a path no project has."""
A, B, C = "198.51.100.1", "198.51.100.2", "2001:db8:1:2::3"
SEQUENCE = (
    [("/", A)] * 6 + [("/", f"203.0.113.9, {A}"), ("/health", A), ("/", B)] + [("/nowhere", C)] * 4
)
"""(path, X-Forwarded-For) of each request, sent one after the other. A token bucket's
waits shrink by the time that passes, so each client's requests must all be answered
within one second for its whole seconds to be these (they take a few milliseconds)."""
COMPARED = ("ratelimit", "ratelimit-policy", "retry-after", "x-ratelimit-limit",
            "x-ratelimit-remaining", "x-ratelimit-reset")  # fmt: skip
REFUSAL = ("content-type", "cache-control")


def answer(response: httpx.Response, sent: float, answered: float) -> dict[str, Any]:
    """What must be the same everywhere: the status, the rate-limit headers, and for a
    refusal its content type, caching and body. `X-RateLimit-Reset` must be when one of the
    limits' wait ends, rounded up to the second, counted from the decision (a moment between
    `sent` and `answered`); it is written `now + t`. That wait is more than `t - 1` and at
    most `t` (`t` is it rounded up), so the reset is at least `floor(sent + t)`: a token
    bucket's wait shrinks by the time since its first request, and a decision made a few
    milliseconds into a second ends one second before `ceil(sent + t)`."""
    headers = {name: response.headers[name] for name in COMPARED if name in response.headers}
    if "x-ratelimit-reset" in headers:
        reset = int(headers["x-ratelimit-reset"])
        waits = {int(item.rpartition(";t=")[2]) for item in headers["ratelimit"].split(", ")}
        ends = [t for t in waits if math.floor(sent + t) <= reset <= math.ceil(answered + t)]
        assert len(ends) == 1, (reset, sent, answered, headers)
        headers["x-ratelimit-reset"] = f"now + {ends[0]}"
    found: dict[str, Any] = {"status": response.status_code, "headers": headers}
    if response.status_code == 429:
        found |= {name: response.headers[name] for name in REFUSAL}
        found["body"] = json.loads(response.content)
    return found


def answers_of(url: str) -> list[dict[str, Any]]:
    with httpx.Client(base_url=url) as client:
        found = []
        for path, forwarded in SEQUENCE:
            sent = time.time()
            response = client.get(path, headers={"X-Forwarded-For": forwarded})
            found.append(answer(response, sent, time.time()))
        return found


@pytest.fixture(scope="module")
def answers() -> dict[str, list[dict[str, Any]]]:
    """Each framework's answers, filled in by the test of that framework."""
    return {}


@pytest.mark.parametrize("framework", FRAMEWORKS, ids=[f.name for f in FRAMEWORKS])
def test_the_same_settings_and_requests_give_the_same_answers(
    framework: Framework, serve_on_redis: Serve, answers: dict[str, list[dict[str, Any]]]
) -> None:
    with serve_on_redis(SETTINGS) as server:
        found = answers_of(server.url)
    expected = json.loads(EXPECTED.read_text())
    for number, (got, want) in enumerate(zip(found, expected, strict=True), 1):
        assert got == want, f"request {number} {SEQUENCE[number - 1]}"
    for name, other in answers.items():
        assert found == other, f"{framework.name} and {name} answer differently"
    answers[framework.name] = found
