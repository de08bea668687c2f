"""Bad options in Starlette's lazily built middleware stack fail the app's start-up.

Starlette and FastAPI build the stack of `Middleware(RateLimitMiddleware, ...)` entries only
at the app's first ASGI call, the lifespan start-up, and an error raised there reaches a
server in uvicorn's default `lifespan="auto"` mode as "lifespan unsupported": the server
starts, and then every request fails. Built that way, the middleware instead answers the
start-up with `lifespan.startup.failed` naming the bad option (as Starlette's own failing
lifespan handlers do), so the server stops at once; built directly it raises, as before.
"""

from __future__ import annotations

import sys

from starlette.types import Receive, Scope, Send

from throttle_core.errors import ConfigError

LAZY_BUILDERS = frozenset({"build_middleware_stack"})
"""The methods in which Starlette and FastAPI build an app's middleware stack."""


def built_lazily() -> bool:
    """Whether the middleware's constructor (the caller of this function) was called by an
    app building its middleware stack rather than by the application's own code; the
    constructors of subclasses calling `super().__init__` are looked through."""
    frame = sys._getframe(1).f_back
    while frame is not None and frame.f_code.co_name == "__init__":
        frame = frame.f_back
    return frame is not None and frame.f_code.co_name in LAZY_BUILDERS


async def fail_start_up(error: ConfigError, scope: Scope, receive: Receive, send: Send) -> None:
    """Refuse to start: `lifespan.startup.failed` naming `error` for the lifespan, then the
    error raised (for a lifespan call and any request that comes without one)."""
    message = f"RateLimitMiddleware: {error}"
    if scope["type"] == "lifespan":
        started = await receive()
        if started["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.failed", "message": message})
    raise ConfigError(message) from error
