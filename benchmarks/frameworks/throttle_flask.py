"""Our Flask extension on the Flask hello world, with its defaults (IETF and legacy headers)
and a fixed window in memory (or Redis), as Flask-Limiter's default strategy is."""

from __future__ import annotations

from typing import Any

from benchmarks.frameworks.base import AppAdapter
from benchmarks.frameworks.flask import hello_app


class ThrottleFlask(AppAdapter):
    library = "throttle-suite"
    module = "throttle_flask"
    framework = "flask"
    protocol = "wsgi"

    def app(self, limit: int, period: int, storage: str | None = None) -> Any:
        from throttle_core import InMemoryStorage
        from throttle_flask import Throttle

        config = {"policy": "fixed_window", "id": "hello", "limit": limit, "interval": period}
        app = hello_app()
        Throttle(app, limits=[config], storage=storage if storage else InMemoryStorage())
        return app
