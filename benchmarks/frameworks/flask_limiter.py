"""Flask-Limiter on the Flask hello world: the extension with a default limit keyed by the
remote address, fixed window (its default strategy) in memory or Redis, headers enabled to match
ours."""

from __future__ import annotations

from typing import Any

from benchmarks.frameworks.base import AppAdapter
from benchmarks.frameworks.flask import hello_app


class FlaskLimiter(AppAdapter):
    library = "flask-limiter"
    module = "flask_limiter"
    framework = "flask"
    protocol = "wsgi"

    def app(
        self, limit: int, period: int, storage: str | None = None, namespace: str = "bench"
    ) -> Any:
        from flask_limiter import Limiter
        from flask_limiter.util import get_remote_address

        app = hello_app()
        Limiter(
            get_remote_address,
            app=app,
            default_limits=[f"{limit} per {period} seconds"],
            headers_enabled=True,
            storage_uri=storage or "memory://",
            storage_options={"key_prefix": f"{namespace}:flask-limiter"} if storage else {},
        )
        return app
