"""Our middleware on the Django hello world: `LIMITS` a fixed window keyed by the client
address, in memory (or Redis), with the default headers (IETF and legacy)."""

from __future__ import annotations

from typing import Any

from benchmarks.frameworks import django
from benchmarks.frameworks.base import AppAdapter


class ThrottleDjango(AppAdapter):
    library = "throttle-suite"
    module = "throttle_django"
    framework = "django"
    protocol = "wsgi"

    def app(self, limit: int, period: int, storage: str | None = None) -> Any:
        owned = django.configure()
        from django.test import override_settings

        from throttle_core import InMemoryStorage

        config = {"policy": "fixed_window", "id": "hello", "limit": limit, "interval": period}
        throttle = override_settings(
            THROTTLE={"LIMITS": [config], "STORAGE": storage or InMemoryStorage()}
        )
        app = django.at(django.PLAIN, ["throttle_django.middleware.RateLimitMiddleware"])
        if owned:
            # The benchmark's own settings: this contender's stay on (no other reads them).
            throttle.enable()
            return app

        def within(environ: dict[str, Any], start_response: Any) -> Any:
            with throttle:
                return app(environ, start_response)

        return within
