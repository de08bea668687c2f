"""The outcome for one request, and the responses a framework sends for a refusal."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from throttle_core.http.headers import Header, Report
from throttle_core.result import RateLimit

PROBLEM_JSON = "application/problem+json"
QUOTA_EXCEEDED = "https://iana.org/assignments/http-problem-types#quota-exceeded"


class Decision(NamedTuple):
    """What to do with one request. `status` None: let it through and add `headers` to its
    response; 429: refused by the limits named in `violated`, to be retried after
    `retry_after` whole seconds; 503: the storage failed and `fail_open` is off. `rate_limit`
    is the compound result (None when nothing was decided), `reports` each limit's part in it
    as `(Quota, RateLimit)` pairs. An immutable named tuple, every value computed when the
    decision was made: reading it can never fail."""

    status: int | None = None
    headers: tuple[Header, ...] = ()
    rate_limit: RateLimit | None = None
    violated: tuple[str, ...] = ()
    retry_after: int | None = None
    reports: tuple[Report, ...] = ()

    @property
    def allowed(self) -> bool:
        """Whether the request may go on (no limit refused it and the storage answered, or
        failed with `fail_open` on)."""
        return self.status is None

    def problem(self) -> dict[str, Any]:
        """The RFC 9457 problem document of a refusal (the default response body)."""
        if self.status == 429:
            seconds = self.retry_after
            return {
                "type": QUOTA_EXCEEDED,
                "title": "Too Many Requests",
                "status": 429,
                "detail": f"Rate limit exceeded ({', '.join(self.violated)}); "
                f"retry in {seconds} second{'s' if seconds != 1 else ''}.",
                "violated-policies": list(self.violated),
                "retry_after": seconds,
            }
        return {
            "type": "about:blank",
            "title": "Service Unavailable",
            "status": 503,
            "detail": "The rate limiter cannot reach its storage; try again later.",
        }

    def body(self) -> bytes:
        """`problem()` as the JSON bytes of the default refusal response."""
        return json.dumps(self.problem(), separators=(",", ":")).encode()

    def response_headers(self) -> list[Header]:
        """Headers of the default refusal response: problem+json, no-store, and `headers`
        (which hold `Retry-After` and the rate-limit fields on a 429)."""
        return [("Content-Type", PROBLEM_JSON), ("Cache-Control", "no-store"), *self.headers]


PASS = Decision()
"""Let the request through untouched: no rule applied, limiting is off, or the storage failed
with `fail_open` on."""


def published(decision: Decision | None) -> Decision | None:
    """What an integration shows the application as a request's decision (Django's
    `request.throttle`, Flask's `throttle.current_decision`): the decision, or None when no
    limit applied (or the storage failed and `fail_open` let the request through)."""
    return None if decision is None or decision is PASS else decision
