"""System checks: each bad THROTTLE value is its own error naming the key and the value; the
warnings fire on in-memory storage and on a user key before authentication; good settings
are silent."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from throttle_django.checks import AUTHENTICATION, MIDDLEWARE

SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"


def throttle_messages(**overrides: Any) -> list[tuple[str, str]]:
    with override_settings(**overrides):
        return [(m.id or "", m.msg) for m in run_checks(tags=["throttle"])]


@pytest.mark.parametrize(
    ("throttle", "code", "words"),
    [
        (["1/minute"], "throttle.E001", ["THROTTLE must be a dict", "['1/minute']"]),
        ({"LIMTS": "1/minute"}, "throttle.E001", ["'LIMTS'", "did you mean 'LIMITS'"]),
        ({"LIMITS": "5/fortnight"}, "throttle.E002", ["LIMITS", "fortnight"]),
        ({"RULES": [{"limit": "1/minute", "path": "^/x$"}]}, "throttle.E003", ["'path'"]),
        ({"STORAGE": "cache://default"}, "throttle.E004", ["cache://default", "atomically"]),
        ({"STORAGE": "nosuch://x"}, "throttle.E004", ["STORAGE", "nosuch"]),
        ({"HEADERS": "ietf-10"}, "throttle.E005", ["HEADERS", "ietf-10"]),
        ({"TRUSTED_PROXIES": ["10.0.0.1/8"]}, "throttle.E006", ["10.0.0.1/8"]),
        ({"PROXY_HEADER": "x-client"}, "throttle.E007", ["PROXY_HEADER", "x-client"]),
        ({"IPV6_PREFIX": 200}, "throttle.E008", ["IPV6_PREFIX", "200"]),
        ({"FAIL_OPEN": "yes"}, "throttle.E009", ["FAIL_OPEN", "'yes'"]),
        ({"KEY": "address"}, "throttle.E010", ["KEY", "'address'"]),
        ({"ENABLED": 1}, "throttle.E011", ["ENABLED", "1"]),
        ({"RESPONSE": "tests.django.nowhere.too_many"}, "throttle.E012", ["RESPONSE", "nowhere"]),
        ({"RESPONSE": "tests.django.views.SEEN"}, "throttle.E012", ["not a function"]),
        ({"ADMIN": "no"}, "throttle.E013", ["ADMIN", "'no'"]),
    ],
)
def test_each_bad_setting_is_an_error_naming_key_and_value(
    throttle: Any, code: str, words: list[str]
) -> None:
    messages = throttle_messages(THROTTLE=throttle)
    assert [found for found, _ in messages] == [code], messages
    for word in words:
        assert word in messages[0][1], messages[0][1]


def test_good_settings_are_silent() -> None:
    throttle = {
        "LIMITS": ["1000/hour"],
        "RULES": [{"limit": "5/minute", "paths": [r"^/login/$"], "methods": ["POST"]}],
        "STORAGE": "django://",
        "HEADERS": ["ietf", "legacy"],
        "TRUSTED_PROXIES": ["10.0.0.0/8"],
        "FAIL_OPEN": True,
        "KEY": "user",
        "ENABLED": True,
        "RESPONSE": "tests.django.test_middleware.too_many",
        "ADMIN": True,
    }
    middleware = [SESSIONS, AUTHENTICATION, MIDDLEWARE]
    assert throttle_messages(THROTTLE=throttle, MIDDLEWARE=middleware) == []
    assert throttle_messages(MIDDLEWARE=middleware) == []


@pytest.mark.parametrize("storage", ["memory://", "tests.django.storages.SHARED"])
def test_in_memory_storage_warns(storage: str) -> None:
    messages = throttle_messages(THROTTLE={"STORAGE": storage})
    assert [code for code, _ in messages] == ["throttle.W001"]
    assert "each worker process counts alone" in messages[0][1]


@pytest.mark.parametrize(
    "middleware",
    [[SESSIONS, MIDDLEWARE, AUTHENTICATION], [MIDDLEWARE]],
    ids=["before", "without authentication"],
)
def test_user_key_before_authentication_warns(middleware: list[str]) -> None:
    rules = [{"limit": "5/minute", "key": "user"}]
    messages = throttle_messages(THROTTLE={"RULES": rules}, MIDDLEWARE=middleware)
    assert [code for code, _ in messages] == ["throttle.W002"]
    assert "request.user is not set yet" in messages[0][1]
    after = [SESSIONS, AUTHENTICATION, MIDDLEWARE]
    assert throttle_messages(THROTTLE={"RULES": rules}, MIDDLEWARE=after) == []
    assert throttle_messages(THROTTLE={"KEY": "ip"}, MIDDLEWARE=middleware) == []


@pytest.mark.parametrize(
    "middleware",
    [[MIDDLEWARE, SESSIONS, AUTHENTICATION], [SESSIONS, MIDDLEWARE]],
    ids=["before", "without authentication"],
)
def test_a_views_user_key_before_authentication_warns(middleware: list[str]) -> None:
    """`@limit(key="user")` on a routed view counts by user as a rule would."""
    views = {"ROOT_URLCONF": "tests.django.limited_urls", "THROTTLE": {"KEY": "ip"}}
    messages = throttle_messages(MIDDLEWARE=middleware, **views)
    assert [code for code, _ in messages] == ["throttle.W002"]
    assert "request.user is not set yet" in messages[0][1]
    after = [SESSIONS, AUTHENTICATION, MIDDLEWARE]
    assert throttle_messages(MIDDLEWARE=after, **views) == []
    broken = {"ROOT_URLCONF": "tests.django.nowhere", "THROTTLE": {"KEY": "ip"}}
    assert throttle_messages(MIDDLEWARE=middleware, **broken) == []
