"""django-ratelimit on the Django hello world: `@ratelimit(key="ip", rate=..., block=True)`
on the view, as its docs show, counting in Django's cache: the local-memory cache in memory,
Django's built-in `RedisCache` on Redis (it sends no rate-limit headers)."""

from __future__ import annotations

from typing import Any

from benchmarks.frameworks import django
from benchmarks.frameworks.base import AppAdapter

REDIS_CACHE = "ratelimit-redis"
"""The alias of the Redis cache django-ratelimit counts in on Redis."""


class DjangoRatelimit(AppAdapter):
    library = "django-ratelimit"
    module = "django_ratelimit"
    framework = "django"
    protocol = "wsgi"

    def app(
        self, limit: int, period: int, storage: str | None = None, namespace: str = "bench"
    ) -> Any:
        from django.conf import settings

        django.RATE["rate"] = f"{limit}/{period}s"
        app = django.at(django.DECORATED, [])
        if storage is None:
            return django.within(app, RATELIMIT_USE_CACHE="default")
        cache = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": storage,
            "KEY_PREFIX": f"{namespace}:django-ratelimit",
        }
        caches = {**settings.CACHES, REDIS_CACHE: cache}
        return django.within(app, CACHES=caches, RATELIMIT_USE_CACHE=REDIS_CACHE)
