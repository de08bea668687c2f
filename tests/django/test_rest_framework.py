"""RateThrottle in real DRF views: the rate from the view's `throttle_rate` or the THROTTLE
rules, keys like the middleware's (DRF's authenticated user too), `wait()` from the refusal,
headers through the middleware; and exactness where DRF's own throttle races."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import Client, override_settings
from django.urls import path
from rest_framework.authentication import BasicAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from tests.integrations.scenarios import memory
from throttle_django.rest_framework import RateThrottle


class Items(APIView):
    throttle_classes = (RateThrottle,)
    throttle_rate = "2/minute"

    def get(self, request: Request) -> Response:
        return Response({"items": [1, 2]})


class OtherItems(Items):
    """Another view with the same rate: a counter of its own."""


class ByRules(APIView):
    throttle_classes = (RateThrottle,)

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


ONE_A_MINUTE = {"policy": "fixed_window", "limit": 1, "interval": "1 minute"}


class Accounts(APIView):
    authentication_classes = (BasicAuthentication,)
    throttle_classes = (RateThrottle,)
    throttle_rate = ONE_A_MINUTE

    def get(self, request: Request) -> Response:
        return Response({"user": request.user.username})


urlpatterns = [
    path("items/", Items.as_view()),
    path("other/", OtherItems.as_view()),
    path("rules/", ByRules.as_view()),
    path("accounts/", Accounts.as_view()),
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "throttle_django.middleware.RateLimitMiddleware",
]


def drf(middleware: list[str] = MIDDLEWARE, **throttle: Any) -> Any:
    return override_settings(
        ROOT_URLCONF="tests.django.test_rest_framework",
        MIDDLEWARE=middleware,
        THROTTLE={"STORAGE": memory(), **throttle},
    )


def codes(client: Client, path: str, times: int, **extra: Any) -> list[int]:
    return [client.get(path, **extra).status_code for _ in range(times)]


@pytest.mark.parametrize("middleware", [MIDDLEWARE, []], ids=["middleware", "alone"])
def test_view_rate_counts_per_view_and_wait_comes_from_retry_after(
    middleware: list[str],
) -> None:
    with drf(middleware):
        client = Client()
        responses = [client.get("/items/") for _ in range(3)]
        assert codes(client, "/other/", 3) == [200, 200, 429]
    assert [r.status_code for r in responses] == [200, 200, 429]
    refused = responses[2]
    assert refused["Retry-After"] == "60"
    assert "Expected available in 60 seconds" in refused.json()["detail"]
    if middleware:
        assert responses[0]["RateLimit"] == '"2-per-minute";r=1;t=60'
        assert refused["RateLimit"] == '"2-per-minute";r=0;t=60'


def test_rate_from_the_rules_decided_once_with_the_middleware() -> None:
    rules = [{"limit": "3/minute", "paths": ["^/rules/$"], "id": "api"}]
    with drf(RULES=rules):
        client = Client()
        assert codes(client, "/rules/", 4) == [200, 200, 200, 429]
    with drf([], RULES=rules):
        assert codes(Client(), "/rules/", 4) == [200, 200, 200, 429]


@pytest.mark.django_db
def test_user_keys_use_drfs_authenticated_user() -> None:
    User.objects.create_user("erin", password="pw")
    User.objects.create_user("frank", password="pw")
    with drf([], KEY="user"):
        client = Client()

        def basic(name: str) -> dict[str, str]:
            import base64

            token = base64.b64encode(f"{name}:pw".encode()).decode()
            return {"Authorization": f"Basic {token}"}

        assert codes(client, "/accounts/", 2, headers=basic("erin")) == [200, 429]
        assert codes(client, "/accounts/", 2, headers=basic("frank")) == [200, 429]
        assert codes(client, "/accounts/", 2) == [200, 429]


# Exactness: 8 threads send 3 requests each to one client's view at once, through the
# shared Redis server; the limit is 5.

LIMIT = 5
THREADS = 8
EACH = 3


class RedisAnonThrottle(AnonRateThrottle):
    """DRF's own throttle on the Redis cache (a get and a set per request)."""

    cache = caches["redis"]
    rate = f"{LIMIT}/minute"


class DRFThrottled(APIView):
    throttle_classes = (RedisAnonThrottle,)

    def get(self, request: Request) -> Response:
        return Response({})


class OursThrottled(APIView):
    throttle_classes = (RateThrottle,)
    throttle_rate = f"{LIMIT}/minute"

    def get(self, request: Request) -> Response:
        return Response({})


def admitted(view: Callable[..., Any], address: str) -> int:
    factory = APIRequestFactory()
    barrier = threading.Barrier(THREADS)
    passed: list[int] = []

    def hammer() -> None:
        barrier.wait()
        for _ in range(EACH):
            response = view(factory.get("/", REMOTE_ADDR=address))
            passed.append(response.status_code)

    threads = [threading.Thread(target=hammer) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(passed) == THREADS * EACH
    return passed.count(200)


@pytest.mark.redis
@pytest.mark.slow
def test_ours_is_exact_where_drfs_own_throttle_races(redis_url: str) -> None:
    ours_view, drfs_view = OursThrottled.as_view(), DRFThrottled.as_view()
    ours, theirs = [], []
    with override_settings(THROTTLE={"STORAGE": "cache://redis"}):
        for _ in range(5):
            address = f"203.0.113.{random.randint(1, 254)}"
            caches["redis"].clear()
            ours.append(admitted(ours_view, address))
            theirs.append(admitted(drfs_view, address))
            if max(theirs) > LIMIT:
                break
    assert set(ours) == {LIMIT}, ours
    assert max(theirs) > LIMIT, theirs
