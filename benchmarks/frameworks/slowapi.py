"""slowapi on the Starlette hello world: its pure-ASGI middleware with a default limit,
fixed window (its default strategy) in memory or Redis, headers enabled to match ours."""

from __future__ import annotations

from typing import Any

from benchmarks.frameworks.base import AppAdapter
from benchmarks.frameworks.starlette import hello_app


class SlowAPI(AppAdapter):
    library = "slowapi"
    module = "slowapi"
    framework = "starlette"
    protocol = "asgi"

    def app(
        self, limit: int, period: int, storage: str | None = None, namespace: str = "bench"
    ) -> Any:
        from slowapi import Limiter, _rate_limit_exceeded_handler
        from slowapi.errors import RateLimitExceeded
        from slowapi.middleware import SlowAPIASGIMiddleware
        from slowapi.util import get_remote_address
        from starlette.middleware import Middleware

        limiter = Limiter(
            key_func=get_remote_address,
            default_limits=[f"{limit} per {period} seconds"],
            headers_enabled=True,
            storage_uri=storage or "memory://",
            storage_options={"key_prefix": f"{namespace}:slowapi"} if storage else {},
        )
        app = hello_app([Middleware(SlowAPIASGIMiddleware)])
        app.state.limiter = limiter
        app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)
        return app
