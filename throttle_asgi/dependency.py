"""A per-route limit as a FastAPI dependency: `Depends(RouteLimit("10/minute", key="user"))`.

Annotations stay real objects here (no postponed evaluation): FastAPI reads the parameter
types of `__call__` to inject the request and the response.
"""

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from throttle_asgi.middleware import problem_response
from throttle_asgi.scope import DECISION, request_view
from throttle_core.clock import Clock
from throttle_core.errors import ConfigError
from throttle_core.http import Decision, KeySpec, Options, RequestLimiter, ViewLimit, ViewLimits
from throttle_core.http.options import ViewOptionKeywords
from throttle_core.http.views import CostFunction, LimitFunction

if TYPE_CHECKING:
    from typing_extensions import Unpack


class RateLimitRejected(HTTPException):
    """Raised by a `RouteLimit` dependency for a refusal (429, or 503 when the storage failed
    and `fail_open` is off). FastAPI answers it with `{"detail": ...}` and the rate-limit
    headers; register `rejection_handler` for the problem+json body."""

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
    """A limit for the routes that depend on it: `Depends(RouteLimit("10/minute"))`.

    `limit` is a limit string, a config dict, or a callable taking the request and returning
    one; `key`, `methods`, `cost` (an int or a callable taking the request) and `id` are the
    limit's. Each route counts on its own (its path template scopes the counter) unless the
    limit has an `id`, which names one counter shared by every route using it. The other
    options are the shared ones of `RateLimitMiddleware` but `limits` and `rules`; `storage`
    (a storage or URL; default: in memory, per dependency) may be the middleware's own storage
    object. `options` takes them all at once from an `Options` (the middleware's, as
    `read_settings(settings).options` gives them; its limits and rules stay the middleware's),
    with keywords given beside it taking precedence. Behind `RateLimitMiddleware`, the
    response's headers describe the middleware's limits and this one together. Options are
    validated when the dependency is made.
    """

    def __init__(
        self,
        limit: "str | Mapping[str, Any] | LimitFunction",
        *,
        key: KeySpec = "ip",
        methods: Iterable[str] | str | None = None,
        cost: "int | CostFunction" = 1,
        id: str | None = None,
        options: Options | None = None,
        clock: Clock | None = None,
        **keywords: "Unpack[ViewOptionKeywords]",
    ) -> None:
        for name in ("limits", "rules"):
            if name in keywords:
                raise ConfigError(
                    f"RouteLimit takes no {name}: it is one limit; give global limits to "
                    "RateLimitMiddleware"
                )
        self.limit = ViewLimit(limit, key=key, methods=methods, cost=cost, id=id)
        self.limits = (self.limit,)
        if options is not None:
            options = options.replace(limits=(), rules=())
        self.limiter = RequestLimiter(options, clock=clock, **keywords)
        self.storage = self.limiter.storage

    async def __call__(self, request: Request, response: Response) -> None:
        scope = request.scope
        route = getattr(scope.get("route"), "path", "")
        decision = await self.limiter.acheck(request_view(scope), ViewLimits(self.limits, route))
        earlier = scope.get(DECISION)
        if earlier is not None:
            decision = self.limiter.combine(earlier, decision)
            if decision.reports:
                scope[DECISION] = decision
        if not decision.allowed:
            raise RateLimitRejected(decision)
        for name, value in decision.headers:
            response.headers[name] = value
