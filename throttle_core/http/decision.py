"""The outcome for one request, and the responses a framework sends for a refusal."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from throttle_core.http.headers import Header, retry_after
from throttle_core.result import RateLimit

PROBLEM_JSON = "application/problem+json"
QUOTA_EXCEEDED = "https://iana.org/assignments/http-problem-types#quota-exceeded"


class Decision(NamedTuple):
    """What to do with one request. `status` None: let it through and add `headers` to its
    response; 429: refused by the limits named in `violated`; 503: the storage failed and
    `fail_open` is off. `rate_limit` is the compound result (None when nothing was decided).
    An immutable named tuple: cheap to build on every request."""

    status: int | None = None
    headers: tuple[Header, ...] = ()
    rate_limit: RateLimit | None = None
    violated: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.status is None

    @property
    def retry_after(self) -> int | None:
        """Whole seconds until a retry can pass (refusals only)."""
        if self.status != 429 or self.rate_limit is None:
            return None
        return retry_after(self.rate_limit)

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
