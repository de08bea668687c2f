"""django-ratelimit on the Django hello world: `@ratelimit(key="ip", rate=..., block=True)`
on the view, as its docs show, counting in Django's cache (the local-memory cache: in memory;
it sends no rate-limit headers)."""

from __future__ import annotations

from typing import Any

from benchmarks.frameworks import django
from benchmarks.frameworks.base import AppAdapter


class DjangoRatelimit(AppAdapter):
    library = "django-ratelimit"
    module = "django_ratelimit"
    framework = "django"
    protocol = "wsgi"

    def app(self, limit: int, period: int, storage: str | None = None) -> Any:
        django.RATE["rate"] = f"{limit}/{period}s"
        return django.at(django.DECORATED, [])
