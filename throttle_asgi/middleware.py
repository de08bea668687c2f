"""RateLimitMiddleware: pure ASGI rate limiting for Starlette, FastAPI or any ASGI app."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from throttle_asgi.routes import ExemptRoutes
from throttle_asgi.scope import (
    DECISION,
    connection,
    request_view,
    with_headers,
)
from throttle_asgi.startup import built_lazily, fail_start_up
from throttle_core.clock import Clock
from throttle_core.errors import ConfigError
from throttle_core.http import Decision, OptionKeywords, RequestLimiter

if TYPE_CHECKING:
    from typing_extensions import Unpack

RejectHandler = Callable[[HTTPConnection, Decision], "Response | Awaitable[Response]"]

POLICY_VIOLATION = 1008
"""The WebSocket close code for a refused connection when the server cannot send a 429."""


def problem_response(decision: Decision) -> Response:
    """The default refusal: 429 (or 503) with the problem+json body and every header."""
    return Response(decision.body(), decision.status or 429, dict(decision.response_headers()))


class RateLimitMiddleware:
    """Limits HTTP requests (and WebSocket connections a rule names) before they reach `app`.

    Options are the request side's shared ones (`limits`, `rules`, `storage`, `headers`,
    `trusted_proxies`, `fail_open`, `key`, `enabled`, `ipv6_prefix`, `proxy_header`),
    validated here, once. `on_reject(request, decision)` may build the refusal response
    (sync or async); the rate-limit headers and `Retry-After` are added to it unless it sets
    them. Lifespan and other scopes pass straight through.

    Built by Starlette from `Middleware(RateLimitMiddleware, ...)` (at the app's start-up),
    bad options fail the lifespan start-up instead of raising, so the server stops at once
    (see `throttle_asgi.startup`).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        on_reject: RejectHandler | None = None,
        clock: Clock | None = None,
        **options: Unpack[OptionKeywords],
    ) -> None:
        self.app = app
        self.on_reject = on_reject
        self.failure: ConfigError | None = None
        self.exempt_routes = ExemptRoutes()
        try:
            if on_reject is not None and not callable(on_reject):
                raise ConfigError(f"on_reject must be a callable, got {on_reject!r}")
            self.limiter = RequestLimiter(clock=clock, **options)
        except ConfigError as error:
            if not built_lazily():
                raise
            self.failure = error
            self.limiter = RequestLimiter(enabled=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.failure is not None:
            await fail_start_up(self.failure, scope, receive, send)
        limiter = self.limiter
        limited = scope["type"] in ("http", "websocket") and limiter.enabled
        if not limited or self.exempt_routes(scope, self.app):
            await self.app(scope, receive, send)
            return
        view = request_view(scope, limiter.needs_request, limiter.needs_user, limiter.needs_headers)
        decision = limiter.solo_check(view) if limiter.decides_now else await limiter.acheck(view)
        scope[DECISION] = decision
        if decision.status is None:
            await self.app(scope, receive, with_headers(send, scope))
            return
        await self.refuse(scope, receive, send, decision)

    async def refuse(self, scope: Scope, receive: Receive, send: Send, decision: Decision) -> None:
        """Send the refusal: `on_reject`'s response or the problem+json one; a WebSocket
        without the denial-response extension is closed with code 1008."""
        extensions = scope.get("extensions") or {}
        if scope["type"] == "websocket" and "websocket.http.response" not in extensions:
            close = {"type": "websocket.close", "code": POLICY_VIOLATION, "reason": "rate limited"}
            await send(close)
            return
        if self.on_reject is None:
            response = problem_response(decision)
        else:
            made = self.on_reject(connection(scope), decision)
            response = await made if inspect.isawaitable(made) else made
        await response(scope, receive, with_headers(send, scope))
