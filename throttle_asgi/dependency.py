"""A per-route limit as a FastAPI dependency: `Depends(RateLimit("10/minute", key="user"))`.

Annotations stay real objects here (no postponed evaluation): FastAPI reads the parameter
types of `__call__` to inject the request and the response.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from throttle_asgi.middleware import problem_response
from throttle_asgi.scope import request_view
from throttle_core.clock import Clock
from throttle_core.factory import resolve_storage
from throttle_core.http import DEFAULT_STYLES, Decision, KeySpec, RequestLimiter, Rule
from throttle_core.storage.memory import InMemoryStorage


class RateLimitRejected(HTTPException):
    """Raised by a `RouteLimit` dependency for a refusal (429, or 503 when the storage failed
    and `fail_open` is off). FastAPI answers it with `{"detail": ...}` and the rate-limit
    headers; register `rejection_handler` for the problem+json body of DESIGN.md §5."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        super().__init__(
            decision.status or 429, decision.problem()["detail"], dict(decision.headers)
        )


async def rejection_handler(request: Request, exc: Exception) -> Response:
    """An exception handler answering `RateLimitRejected` with the problem+json response:
    `app.add_exception_handler(RateLimitRejected, rejection_handler)`."""
    if not isinstance(exc, RateLimitRejected):
        raise exc
    return problem_response(exc.decision)


class RouteLimit:
    """A limit for the routes that depend on it; exported as `throttle_asgi.RateLimit` (not to
    be confused with `throttle_core.RateLimit`, the result of a decision).

    Each route counts on its own (its path template, which FastAPI puts in the scope, scopes
    the counter) unless the limit has an `id`, which names one counter shared by every route
    using it. `storage` (a storage or
    URL; default: in memory, per dependency) may be the middleware's own storage object.
    Options are validated when the dependency is made.
    """

    def __init__(
        self,
        limit: str | Mapping[str, Any],
        *,
        key: KeySpec = "ip",
        methods: Iterable[str] | str | None = None,
        cost: int = 1,
        id: str | None = None,
        storage: Any = None,
        headers: str | Sequence[str] | None = DEFAULT_STYLES,
        trusted_proxies: Iterable[str] | str = (),
        fail_open: bool = True,
        enabled: bool = True,
        ipv6_prefix: int = 64,
        proxy_header: str = "auto",
        clock: Clock | None = None,
    ) -> None:
        self.rule = Rule(limit, key=key, methods=methods, cost=cost, id=id)
        self.storage = InMemoryStorage(clock=clock) if storage is None else resolve_storage(storage)
        self.options: dict[str, Any] = {
            "storage": self.storage,
            "headers": headers,
            "trusted_proxies": trusted_proxies,
            "fail_open": fail_open,
            "enabled": enabled,
            "ipv6_prefix": ipv6_prefix,
            "proxy_header": proxy_header,
            "clock": clock,
        }
        self.limiters = {"": self._limiter("")}

    def _limiter(self, route: str) -> RequestLimiter:
        rule = self.rule
        scoped = Rule(
            rule.limit,
            key=rule.key,
            methods=rule.methods,
            cost=rule.cost,
            id=rule.id,
            namespace=route,
        )
        return RequestLimiter(rules=[scoped], **self.options)

    async def __call__(self, request: Request, response: Response) -> None:
        route = getattr(request.scope.get("route"), "path", "")
        limiter = self.limiters.get(route)
        if limiter is None:
            limiter = self.limiters[route] = self._limiter(route)
        decision = await limiter.acheck(request_view(request.scope))
        if not decision.allowed:
            raise RateLimitRejected(decision)
        for name, value in decision.headers:
            response.headers[name] = value


RateLimit = RouteLimit
"""The name the issue gives the dependency: `Depends(RateLimit("10/minute"))`."""
