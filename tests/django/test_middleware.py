"""RateLimitMiddleware through Django's real request cycle, sync (`Client`) and async
(`AsyncClient`): global limits and view limits as one decision, headers, 404s, exempt views,
RESPONSE, request.throttle, the signal, trusted proxies, user keys with a real login, and
storage failures that never become a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, Client, override_settings

from tests.django import views
from tests.integrations.scenarios import BrokenStorage, memory
from throttle_core import InMemoryStorage
from throttle_core.http import Decision
from throttle_django.signals import request_refused

URLS = "tests.django.limited_urls"
AUTH = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
MIDDLEWARE = [*AUTH, "throttle_django.middleware.RateLimitMiddleware"]


def limited(**throttle: Any) -> Any:
    """Settings with the test URLs, the middleware after authentication, and `throttle`
    (in memory unless it names a storage)."""
    return override_settings(
        ROOT_URLCONF=URLS,
        MIDDLEWARE=MIDDLEWARE,
        THROTTLE={"STORAGE": memory(), **throttle},
    )


@pytest.fixture(autouse=True)
def seen() -> Iterator[list[Any]]:
    views.SEEN.clear()
    yield views.SEEN
    views.SEEN.clear()


def statuses(client: Client, path: str, times: int, **extra: Any) -> list[int]:
    return [client.get(path, **extra).status_code for _ in range(times)]


def test_global_limit_headers_and_the_problem_response() -> None:
    with limited(LIMITS=["2/minute"]):
        client = Client()
        first, second, refused = (client.get("/") for _ in range(3))
    assert [first.status_code, second.status_code, refused.status_code] == [200, 200, 429]
    assert first["RateLimit-Policy"] == '"2-per-minute";q=2;w=60'
    assert first["RateLimit"].startswith('"2-per-minute";r=1;t=')
    assert first["X-RateLimit-Remaining"] == "1"
    assert "Retry-After" not in first
    assert refused["Content-Type"] == "application/problem+json"
    assert refused["Cache-Control"] == "no-store"
    assert int(refused["Retry-After"]) >= 1
    body = json.loads(refused.content)
    assert body["violated-policies"] == ["2-per-minute"]
    assert body["status"] == 429


def test_request_throttle_is_the_decision_or_none(seen: list[Any]) -> None:
    with limited(RULES=[{"limit": "5/minute", "paths": ["^/login/$"], "id": "login"}]):
        client = Client()
        client.get("/")
        client.get("/login/")
    assert seen[0]["throttle"] is None
    decision = seen[1]["throttle"]
    assert isinstance(decision, Decision)
    assert decision.allowed
    assert decision.rate_limit is not None
    assert decision.rate_limit.remaining == 4


def test_unmatched_urls_are_counted_and_answered_by_djangos_404() -> None:
    with limited(LIMITS=["2/minute"]):
        client = Client()
        assert statuses(client, "/nothing-here/", 3) == [404, 404, 429]
        assert client.get("/").status_code == 429


def test_view_limits_count_per_view_and_an_id_shares_one_counter() -> None:
    with limited():
        client = Client()
        assert statuses(client, "/search/", 3) == [200, 200, 429]
        assert statuses(client, "/other-search/", 3) == [200, 200, 429]
        assert client.get("/").status_code == 200
        shared = [client.get(path).status_code for path in ("/shared-one/", "/shared-two/") * 2]
    assert shared == [200, 200, 200, 429]


def test_global_and_view_limits_are_one_decision_with_give_back() -> None:
    with limited(RULES=[{"limit": "10/minute", "id": "global"}]):
        client = Client()
        responses = [client.get("/search/") for _ in range(4)]
        after = client.get("/")
    assert [r.status_code for r in responses] == [200, 200, 429, 429]
    assert responses[0]["RateLimit-Policy"] == '"global";q=10;w=60, "2-per-minute";q=2;w=60'
    assert json.loads(responses[2].content)["violated-policies"] == ["2-per-minute"]
    # The two refusals took nothing from the global limit: 2 hits, then this one.
    assert after["RateLimit"].startswith('"global";r=7;')


def test_stacked_limits_are_one_compound() -> None:
    with limited():
        client = Client()
        first, refused = client.get("/stacked/"), client.get("/stacked/")
    assert first["RateLimit-Policy"] == '"burst";q=1;w=1, "steady";q=5;w=60'
    assert refused.status_code == 429
    assert json.loads(refused.content)["violated-policies"] == ["burst"]
    assert refused["RateLimit"].startswith('"burst";r=0;t=1, "steady";r=4;')


def test_methods_narrow_a_view_limit() -> None:
    with limited():
        client = Client()
        assert statuses(client, "/posts/", 3) == [200, 200, 200]
        assert "RateLimit" not in client.get("/posts/")
        assert [client.post("/posts/").status_code for _ in range(2)] == [200, 429]


def test_callable_limit_and_cost() -> None:
    with limited():
        client = Client()
        free = [client.get("/plan/", headers={"X-Api-Key": "a"}).status_code for _ in range(2)]
        pro = [
            client.get("/plan/", headers={"X-Api-Key": "b", "X-Plan": "pro"}).status_code
            for _ in range(4)
        ]
        weighted = [client.get("/weighted/", {"n": n}).status_code for n in ("3", "3", "2")]
    assert free == [200, 429]
    assert pro == [200, 200, 200, 429]
    assert weighted == [200, 429, 200]


def test_block_false_lets_the_view_decide() -> None:
    with limited():
        client = Client()
        first, second = client.get("/soft/"), client.get("/soft/")
    assert (first.status_code, first.content) == (200, b"fine")
    assert (second.status_code, second.content) == (200, b"slow down")
    assert second["RateLimit"].startswith('"soft";r=0;')
    assert "Retry-After" not in second


def test_exempt_views_skip_global_limits_but_keep_their_own() -> None:
    with limited(LIMITS=["1/minute"]):
        client = Client()
        assert statuses(client, "/health/", 3) == [200, 200, 200]
        assert "RateLimit" not in client.get("/health/")
        own = statuses(client, "/exempt-own/", 2)
        assert client.get("/").status_code == 200
    assert own == [200, 429]


def too_many(request: HttpRequest, decision: Decision) -> HttpResponse:
    return HttpResponse(f"wait {decision.retry_after}", status=429)


def test_response_setting_replaces_the_refusal_and_keeps_the_headers() -> None:
    with limited(LIMITS=["1/minute"], RESPONSE="tests.django.test_middleware.too_many"):
        client = Client()
        client.get("/")
        refused = client.get("/")
    assert refused.status_code == 429
    assert refused.content.startswith(b"wait ")
    assert refused["Retry-After"] == refused.content.decode().split()[1]
    assert refused["RateLimit-Policy"] == '"1-per-minute";q=1;w=60'


def test_request_refused_is_sent_for_each_429() -> None:
    got: list[tuple[object, Decision]] = []

    def receiver(sender: object, request: HttpRequest, decision: Decision, **kwargs: Any) -> None:
        got.append((sender, decision))

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("a receiver's bug")

    request_refused.connect(receiver)
    request_refused.connect(broken)
    try:
        with limited():
            client = Client()
            assert statuses(client, "/search/", 4) == [200, 200, 429, 429]
            assert statuses(client, "/items/", 3) == [200, 200, 429]
    finally:
        request_refused.disconnect(receiver)
        request_refused.disconnect(broken)
    assert [sender for sender, _ in got] == [views.search, views.search, views.Items]
    assert all(decision.status == 429 for _, decision in got)


def test_trusted_proxies() -> None:
    with limited(LIMITS=["1/minute"], TRUSTED_PROXIES=["10.0.0.0/8"]):
        client = Client()

        def via(peer: str, forwarded: str) -> int:
            headers = {"X-Forwarded-For": forwarded}
            return client.get("/", headers=headers, REMOTE_ADDR=peer).status_code

        assert [via("10.0.0.2", f"203.0.113.{n}") for n in (1, 2, 1)] == [200, 200, 429]
        assert [via("198.51.100.9", f"203.0.113.{n}") for n in (10, 11, 12)] == [200, 429, 429]


@pytest.mark.django_db
def test_user_keys_count_logged_in_users_apart() -> None:
    alice = User.objects.create_user("alice", password="pw")
    bob = User.objects.create_user("bob", password="pw")
    with limited(RULES=[{"limit": "2/minute", "key": "user", "id": "account"}]):
        clients = {}
        for user in (alice, bob):
            clients[user.username] = Client()
            assert clients[user.username].login(username=user.username, password="pw")
        anonymous = Client()
        assert statuses(clients["alice"], "/", 3) == [200, 200, 429]
        assert statuses(clients["bob"], "/", 2) == [200, 200]
        # From the same address, anonymous requests count by address, apart from the users.
        assert statuses(anonymous, "/", 3) == [200, 200, 429]


@pytest.mark.django_db
def test_the_user_is_not_read_when_no_rule_counts_by_user(seen: list[Any]) -> None:
    User.objects.create_user("carol", password="pw")
    with limited(LIMITS=["5/minute"]):
        client = Client()
        assert client.login(username="carol", password="pw")
        client.get("/")
    with limited(LIMITS=["5/minute"], KEY="user"):
        client.get("/")
    assert [entry["user_read"] for entry in seen] == [False, True]


def test_fail_open_lets_requests_through_and_fail_closed_answers_503() -> None:
    with limited(LIMITS=["1/minute"], STORAGE=BrokenStorage()):
        client = Client()
        responses = [client.get("/search/") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert "RateLimit" not in responses[0]
    with limited(LIMITS=["1/minute"], STORAGE=BrokenStorage(), FAIL_OPEN=False):
        refused = Client().get("/")
    assert refused.status_code == 503
    assert refused["Content-Type"] == "application/problem+json"
    assert json.loads(refused.content)["title"] == "Service Unavailable"


class GarbageStorage(InMemoryStorage):
    """A storage that answers what no decision can be rendered from."""

    def consume(self, *args: Any, **kwargs: Any) -> Any:
        return "not a result"

    async def aconsume(self, *args: Any, **kwargs: Any) -> Any:
        return object()


@pytest.mark.parametrize("fail_open", [True, False])
def test_a_storage_answering_garbage_is_never_a_500(fail_open: bool) -> None:
    expected = 200 if fail_open else 503
    with limited(LIMITS=["1/minute"], STORAGE=GarbageStorage(), FAIL_OPEN=fail_open):
        assert Client(raise_request_exception=False).get("/").status_code == expected


def test_disabled_limits_nothing() -> None:
    with limited(LIMITS=["1/minute"], ENABLED=False):
        assert statuses(Client(), "/search/", 3) == [200, 200, 200]


# The same through the async request cycle (ASGI handler, async middleware chain).


async def astatuses(client: AsyncClient, path: str, times: int) -> list[int]:
    return [(await client.get(path)).status_code for _ in range(times)]


async def test_async_client_global_view_and_exempt() -> None:
    with limited(LIMITS=["4/minute"]):
        client = AsyncClient()
        assert await astatuses(client, "/async-search/", 3) == [200, 200, 429]
        assert await astatuses(client, "/health/", 2) == [200, 200]
        assert await astatuses(client, "/nothing/", 2) == [404, 404]
        assert await astatuses(client, "/", 2) == [429, 429]


async def test_async_class_based_view_and_refusal_body() -> None:
    with limited():
        client = AsyncClient()
        responses = [await client.get("/async-items/") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[0].content == b"async items"
    assert responses[2]["Content-Type"] == "application/problem+json"


async def test_async_fail_closed() -> None:
    with limited(LIMITS=["1/minute"], STORAGE=BrokenStorage(), FAIL_OPEN=False):
        response = await AsyncClient().get("/")
    assert response.status_code == 503


@pytest.mark.django_db(transaction=True)
async def test_async_user_keys_through_auser() -> None:
    from asgiref.sync import sync_to_async

    await sync_to_async(User.objects.create_user)("dave", password="pw")
    with limited(RULES=[{"limit": "1/minute", "key": "user", "id": "account"}]):
        client = AsyncClient()
        assert await client.alogin(username="dave", password="pw")
        assert await astatuses(client, "/", 2) == [200, 429]
        assert await astatuses(AsyncClient(), "/", 1) == [200]


@pytest.mark.django_db
def test_a_view_limit_keyed_by_user_reads_the_user(seen: list[Any]) -> None:
    User.objects.create_user("gina", password="pw")
    User.objects.create_user("hal", password="pw")
    with limited():
        gina, hal = Client(), Client()
        assert gina.login(username="gina", password="pw")
        assert hal.login(username="hal", password="pw")
        assert statuses(gina, "/per-user/", 3) == [200, 200, 429]
        assert statuses(hal, "/per-user/", 2) == [200, 200]
