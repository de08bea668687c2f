"""What a 429 of one limit must carry, checked the same way in every test and framework."""

from __future__ import annotations

import math

from tests.e2e.load import Answer

PROBLEM_TYPE = "https://iana.org/assignments/http-problem-types#quota-exceeded"


def check_refusal(answer: Answer, name: str, limit: int, window: int) -> int:
    """Assert that `answer` is the 429 of the one limit `name` (`limit` per `window`
    seconds): `Retry-After`, the IETF and legacy headers agreeing with it, and the
    problem+json body; return its `Retry-After`."""
    assert answer.status == 429, answer
    headers = answer.headers
    retry = int(headers["Retry-After"])
    assert retry >= 1
    assert headers["RateLimit-Policy"] == f'"{name}";q={limit};w={window}'
    assert headers["RateLimit"] == f'"{name}";r=0;t={retry}'
    assert headers["X-RateLimit-Limit"] == str(limit)
    assert headers["X-RateLimit-Remaining"] == "0"
    reset = int(headers["X-RateLimit-Reset"])
    assert math.floor(answer.sent) + retry <= reset <= math.ceil(answer.answered) + retry + 1
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["Cache-Control"] == "no-store"
    body = answer.json()
    assert isinstance(body, dict)
    assert body["type"] == PROBLEM_TYPE
    assert body["title"] == "Too Many Requests"
    assert body["status"] == 429
    assert body["violated-policies"] == [name]
    assert body["retry_after"] == retry
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return retry


def seconds_to_next(window: int, answer: Answer) -> range:
    """The whole seconds from when `answer` was sent or answered to the end of the
    clock-aligned `window` it fell in: what a window policy's `Retry-After` must be."""
    low = math.ceil((answer.answered // window + 1) * window - answer.answered)
    high = math.ceil((answer.sent // window + 1) * window - answer.sent)
    return range(low, high + 1)
