"""System checks of the `THROTTLE` setting, run by `manage.py check`, `runserver` and
`migrate`: an error (`throttle.E001`…) for every bad value, naming the key and the value, and
warnings for settings that work but do not do what a site with several workers wants."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from throttle_core.http.limiter import USER_KEYS
from throttle_core.storage.memory import InMemoryStorage
from throttle_django import conf
from throttle_django.decorators import declared_limits
from throttle_django.limits import routed_views

TAG = "throttle"

CODES = {
    "THROTTLE": "throttle.E001",
    "LIMITS": "throttle.E002",
    "RULES": "throttle.E003",
    "STORAGE": "throttle.E004",
    "HEADERS": "throttle.E005",
    "TRUSTED_PROXIES": "throttle.E006",
    "PROXY_HEADER": "throttle.E007",
    "IPV6_PREFIX": "throttle.E008",
    "FAIL_OPEN": "throttle.E009",
    "KEY": "throttle.E010",
    "ENABLED": "throttle.E011",
    "RESPONSE": "throttle.E012",
    "ADMIN": "throttle.E013",
}
"""The error code of a bad value under each key (`THROTTLE`: the setting is not a dict, or
has a key nobody knows)."""

MIDDLEWARE = "throttle_django.middleware.RateLimitMiddleware"
AUTHENTICATION = "django.contrib.auth.middleware.AuthenticationMiddleware"


@register(TAG)
def check_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The errors and warnings of the `THROTTLE` setting as it is now."""
    try:
        configuration = conf.configuration()
    except conf.SettingError as error:
        return [Error(str(error), id=CODES.get(error.key, CODES["THROTTLE"]))]
    found: list[CheckMessage] = []
    storage = configuration.options.storage
    if isinstance(storage, InMemoryStorage):
        found.append(
            Warning(
                f'THROTTLE["STORAGE"] is {storage!r}, in memory: each worker process counts '
                "alone, so a server with N workers admits up to N times each limit",
                hint='Use "django://" (the default), "cache://ALIAS" or a redis:// or '
                "postgresql:// URL, or silence throttle.W001 for a single-process server.",
                id="throttle.W001",
            )
        )
    if _counts_by_user(configuration) and _before_authentication():
        found.append(
            Warning(
                f"a limit counts by user, but {MIDDLEWARE} comes before {AUTHENTICATION} in "
                "MIDDLEWARE (or it is missing): request.user is not set yet, so every "
                "request is counted by its address",
                hint=f"Put {MIDDLEWARE} after {AUTHENTICATION}.",
                id="throttle.W002",
            )
        )
    return found


def _counts_by_user(configuration: conf.Configuration) -> bool:
    """Whether a global limit, the default key or a view's `@limit` counts by user."""
    limiter = configuration.limiter
    if limiter.needs_user or configuration.options.key in USER_KEYS:
        return True
    try:
        views = list(routed_views())
    except Exception:  # a broken URLconf is reported by Django's own URL checks
        return False
    return any(declared.key in USER_KEYS for view in views for declared in declared_limits(view))


def _before_authentication() -> bool:
    middleware = list(getattr(settings, "MIDDLEWARE", None) or ())
    if MIDDLEWARE not in middleware:
        return False
    if AUTHENTICATION not in middleware:
        return True
    return middleware.index(MIDDLEWARE) < middleware.index(AUTHENTICATION)
