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
        django.configure()
        from django.test import override_settings

        from throttle_core import InMemoryStorage

        config = {"policy": "fixed_window", "id": "hello", "limit": limit, "interval": period}
        # Django's settings are the process's: this contender's stay on (the others do not
        # read THROTTLE).
        override_settings(
            THROTTLE={"LIMITS": [config], "STORAGE": storage or InMemoryStorage()}
        ).enable()
        return django.at(django.PLAIN, ["throttle_django.middleware.RateLimitMiddleware"])
