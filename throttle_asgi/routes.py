"""Route exemption: endpoints marked with `exempt` are never limited by the middleware."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from starlette.routing import BaseRoute, Match
from starlette.types import Scope

T = TypeVar("T")

EXEMPT = "__throttle_exempt__"


def exempt(endpoint: T) -> T:
    """Mark an endpoint (function or class) so `RateLimitMiddleware` never limits requests
    routed to it. Put it below the route decorator: `@app.get("/health")` then `@exempt`."""
    setattr(endpoint, EXEMPT, True)
    return endpoint


def _exempt_chains(routes: Iterable[Any], above: tuple[BaseRoute, ...] = ()) -> Iterator[Any]:
    for route in routes:
        if getattr(getattr(route, "endpoint", None), EXEMPT, False):
            yield (*above, route)
        inner = getattr(route, "routes", None)
        if inner:
            yield from _exempt_chains(inner, (*above, route))


def _reaches(chain: tuple[BaseRoute, ...], scope: Scope) -> bool:
    for route in chain:
        match, child = route.matches(scope)
        if match is not Match.FULL:
            return False
        scope = {**scope, **child}
    return True


class ExemptRoutes:
    """Finds whether a request goes to an `exempt` endpoint of a Starlette or FastAPI app. The
    routes (through mounts) are read once, at the first request; only exempt ones are tried."""

    def __init__(self) -> None:
        self._app: object = None
        self._chains: tuple[tuple[BaseRoute, ...], ...] = ()

    def __call__(self, scope: Scope, app: object) -> bool:
        router = scope.get("app", app)
        if router is not self._app:
            self._app = router
            self._chains = tuple(_exempt_chains(getattr(router, "routes", ())))
        return bool(self._chains) and any(_reaches(chain, scope) for chain in self._chains)
