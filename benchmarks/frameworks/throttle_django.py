"""Our middleware on the Django hello world, the limit in `THROTTLE["LIMITS"]`."""

from __future__ import annotations

from typing import Any

from benchmarks.frameworks import django
from benchmarks.frameworks.base import OurAdapter


class ThrottleDjango(OurAdapter):
    module = "throttle_django"
    framework = "django"
    protocol = "wsgi"

    def limited(self, config: dict[str, Any], storage: object) -> Any:
        owned = django.configure()
        from django.test import override_settings

        throttle = override_settings(THROTTLE={"LIMITS": [config], "STORAGE": storage})
        app = django.at(django.PLAIN, ["throttle_django.middleware.RateLimitMiddleware"])
        if owned:
            # The benchmark's own settings: this contender's stay on (no other reads them).
            throttle.enable()
            return app

        def within(environ: dict[str, Any], start_response: Any) -> Any:
            with throttle:
                return app(environ, start_response)

        return within
