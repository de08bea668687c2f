"""Rate limiting for ASGI apps (Starlette, FastAPI, any ASGI app): `RateLimitMiddleware`, the
`RouteLimit` route dependency, and `exempt` for endpoints that are never limited."""

from __future__ import annotations

from throttle_core.errors import missing_extra

try:
    import starlette  # noqa: F401 - the `asgi` extra, checked before anything needs it
except ModuleNotFoundError as error:  # pragma: no cover - tested in a subprocess
    raise missing_extra("asgi", error) from error

from throttle_asgi.dependency import RateLimitRejected, RouteLimit, rejection_handler
from throttle_asgi.middleware import RateLimitMiddleware, problem_response
from throttle_asgi.routes import exempt
from throttle_core.http import Decision, Rule

__all__ = [
    "Decision",
    "RateLimitMiddleware",
    "RateLimitRejected",
    "RouteLimit",
    "Rule",
    "exempt",
    "problem_response",
    "rejection_handler",
]
