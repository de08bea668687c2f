"""Our ASGI middleware on the Starlette hello world."""

from __future__ import annotations

from typing import Any

from benchmarks.frameworks.base import OurAdapter
from benchmarks.frameworks.starlette import hello_app


class ThrottleASGI(OurAdapter):
    module = "throttle_asgi"
    framework = "starlette"
    protocol = "asgi"

    def limited(self, config: dict[str, Any], storage: object) -> Any:
        from starlette.middleware import Middleware

        from throttle_asgi import RateLimitMiddleware

        return hello_app(
            [Middleware(RateLimitMiddleware, limits=[config], storage=storage, fail_open=False)]
        )
