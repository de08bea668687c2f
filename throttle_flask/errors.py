"""The exceptions a refused request raises: `RateLimitExceeded` (429) and `StorageUnavailable`
(503, when the storage failed and `fail_open` is off). Both are werkzeug HTTP exceptions, so
`@app.errorhandler(429)` (or `503`) replaces their response; without a handler each answers
with the problem+json response every integration of throttle-suite sends."""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import HTTPException, ServiceUnavailable, TooManyRequests

from throttle_core.http import Decision


class _Refusal(HTTPException):
    """A refusal carrying its `Decision`, answered by the decision's own problem+json body and
    headers (`Retry-After` and the rate-limit fields on a 429)."""

    decision: Decision

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        super().__init__(decision.problem()["detail"])

    def get_body(self, environ: Any = None, scope: dict[str, Any] | None = None) -> str:
        return self.decision.body().decode()

    def get_headers(
        self, environ: Any = None, scope: dict[str, Any] | None = None
    ) -> list[tuple[str, str]]:
        return self.decision.response_headers()


class RateLimitExceeded(_Refusal, TooManyRequests):
    """Raised before the view when a limit refuses the request. `.decision` is the refusal:
    `.violated` names the refusing limits, `.retry_after` the whole seconds to wait,
    `.headers` the rate-limit headers (added to whatever response answers it)."""


class StorageUnavailable(_Refusal, ServiceUnavailable):
    """Raised before the view when the storage failed and `fail_open` is off."""
