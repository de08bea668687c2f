"""The problem+json body every integration answers a refusal with, as tests expect it."""

from __future__ import annotations

from typing import Any


def quota_exceeded(policy: str, seconds: int) -> dict[str, Any]:
    """The body of a 429 refused by the limit named `policy`, retried after `seconds`."""
    return {
        "type": "https://iana.org/assignments/http-problem-types#quota-exceeded",
        "title": "Too Many Requests",
        "status": 429,
        "detail": f"Rate limit exceeded ({policy}); retry in {seconds} seconds.",
        "violated-policies": [policy],
        "retry_after": seconds,
    }
