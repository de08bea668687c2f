"""Our ASGI middleware on the Starlette hello world, with its defaults (IETF and legacy
headers) and a fixed window in memory (or Redis), as slowapi's default strategy is."""

from __future__ import annotations

from typing import Any

from benchmarks.frameworks.base import AppAdapter
from benchmarks.frameworks.starlette import hello_app


class ThrottleASGI(AppAdapter):
    library = "throttle-suite"
    module = "throttle_asgi"
    framework = "starlette"
    protocol = "asgi"

    def app(self, limit: int, period: int, storage: str | None = None) -> Any:
        from starlette.middleware import Middleware

        from throttle_asgi import RateLimitMiddleware
        from throttle_core import InMemoryStorage

        config = {"policy": "fixed_window", "id": "hello", "limit": limit, "interval": period}
        store = storage if storage is not None else InMemoryStorage()
        limited = Middleware(RateLimitMiddleware, limits=[config], storage=store)
        return hello_app([limited])
