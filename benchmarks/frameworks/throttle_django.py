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
        app = django.at(django.PLAIN, ["throttle_django.middleware.RateLimitMiddleware"])
        return django.within(
            app, THROTTLE={"LIMITS": [config], "STORAGE": storage, "FAIL_OPEN": False}
        )
