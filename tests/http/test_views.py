"""Limits on one view: scoped by the view's name, one compound with the global rules, peeks,
resets, callables for the limit and the cost, and a user looked up only when needed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pytest

from tests.conftest import START
from throttle_core import ConfigError, FrozenClock, InMemoryStorage
from throttle_core.http import Decision, RequestLimiter, RequestView, ViewLimit, ViewLimits
from throttle_core.http import limiter as limiter_module
from throttle_core.http.failures import REPORT_EVERY
from throttle_core.result import RateLimit


@pytest.fixture(params=["sync", "async"])
def is_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param == "async")


def limiter(**options: Any) -> RequestLimiter:
    clock = FrozenClock(START)
    options.setdefault("storage", InMemoryStorage(clock=clock))
    return RequestLimiter(clock=clock, **options)


async def decide(
    requests: RequestLimiter,
    request: RequestView,
    is_async: bool,
    limits: Sequence[ViewLimit] = (),
    **scope: Any,
) -> Decision:
    view = ViewLimits(tuple(limits), scope.pop("view", ""), **scope)
    if is_async:
        return await requests.acheck(request, view)
    return requests.check(request, view)


GET = RequestView("GET", "/", "198.51.100.1")


async def test_a_view_limit_counts_per_view_unless_it_has_an_id(is_async: bool) -> None:
    requests = limiter(headers="ietf")
    each, shared = ViewLimit("2/minute"), ViewLimit("2/minute", id="shared")
    a = [(await decide(requests, GET, is_async, [each], view="app.a")).status for _ in range(3)]
    b = [(await decide(requests, GET, is_async, [each], view="app.b")).status for _ in range(3)]
    assert a == b == [None, None, 429]
    by_id = [
        (await decide(requests, GET, is_async, [shared], view=view)).status
        for view in ("app.a", "app.b", "app.c")
    ]
    assert by_id == [None, None, 429]


async def test_global_and_view_limits_are_one_compound(is_async: bool) -> None:
    window = {"policy": "fixed_window", "interval": 60}
    requests = limiter(rules=[{"limit": {**window, "limit": 5}, "id": "global"}], headers="ietf")
    view = [ViewLimit({**window, "limit": 1}, id="view")]
    first = await decide(requests, GET, is_async, view, view="v")
    assert first.headers[1] == ("RateLimit", '"global";r=4;t=60, "view";r=0;t=60')
    refused = await decide(requests, GET, is_async, view, view="v")
    assert refused.status == 429
    assert refused.violated == ("view",)
    assert refused.headers[2] == ("RateLimit", '"global";r=4;t=60, "view";r=0;t=60')
    alone = await decide(requests, GET, is_async)
    assert alone.headers[1] == ("RateLimit", '"global";r=3;t=60')
    only_view = await decide(requests, GET, is_async, view, view="v", global_limits=False)
    assert only_view.violated == ("view",)
    assert [quota.name for quota, _ in only_view.reports] == ["view"]


async def test_peeked_limits_take_nothing_and_methods_narrow(is_async: bool) -> None:
    requests = limiter(headers="ietf")
    login = ViewLimit("2/minute", methods=["POST"], id="login")
    post = RequestView("POST", "/login", "198.51.100.1")
    for _ in range(3):
        peeked = await decide(requests, post, is_async, [login], peek=True)
        assert peeked.headers[1] == ("RateLimit", '"login";r=2;t=0')
        assert peeked.allowed
    assert (await decide(requests, GET, is_async, [login])).reports == ()
    statuses = [(await decide(requests, post, is_async, [login])).status for _ in range(3)]
    assert statuses == [None, None, 429]
    exhausted = await decide(requests, post, is_async, [login], peek=True)
    assert exhausted.status == 429
    assert exhausted.violated == ("login",)
    assert exhausted.headers[2] == ("RateLimit", '"login";r=0;t=60')


async def test_a_peek_refuses_when_fewer_tokens_remain_than_a_request_takes(
    is_async: bool,
) -> None:
    requests = limiter(headers="ietf")
    upload = ViewLimit({"policy": "fixed_window", "limit": 3, "interval": 60}, cost=2, id="up")
    assert (await decide(requests, GET, is_async, [upload])).allowed
    peeked = await decide(requests, GET, is_async, [upload], peek=True)
    assert peeked.status == 429
    assert peeked.retry_after == 60
    assert peeked.headers[2] == ("RateLimit", '"up";r=1;t=60')
    free = ViewLimit("3/minute", cost=0, id="free")
    assert (await decide(requests, GET, is_async, [free], peek=True)).allowed


async def test_reset_forgets_one_requests_counters(is_async: bool) -> None:
    requests = limiter()
    login = [ViewLimit("1/minute", id="login")]
    assert (await decide(requests, GET, is_async, login)).allowed
    assert not (await decide(requests, GET, is_async, login)).allowed
    if is_async:
        await requests.areset(GET, ViewLimits(tuple(login)))
    else:
        requests.reset(GET, ViewLimits(tuple(login)))
    assert (await decide(requests, GET, is_async, login)).allowed


async def test_callable_limits_and_costs_read_the_request(is_async: bool) -> None:
    requests = limiter(headers="ietf")
    tiers = ViewLimit(
        lambda request: "3/minute" if request == "gold" else "1/minute",
        cost=lambda request: 2 if request == "gold" else 1,
        key="path",
    )
    gold = RequestView("GET", "/gold", None, request="gold")
    free = RequestView("GET", "/free", None, request="free")
    assert (await decide(requests, gold, is_async, [tiers])).headers[1][1].endswith("r=1;t=90")
    assert (await decide(requests, gold, is_async, [tiers])).status == 429
    assert [(await decide(requests, free, is_async, [tiers])).status for _ in range(2)] == [
        None,
        429,
    ]
    greedy = ViewLimit("2/minute", cost=lambda request: 3)
    with pytest.raises(ConfigError, match="returned 3, above the limit 2"):
        await decide(requests, GET, is_async, [greedy])


def test_view_limits_are_validated_when_declared() -> None:
    with pytest.raises(ConfigError, match="'5 a minute' is not a limit string"):
        ViewLimit("5 a minute")
    with pytest.raises(ConfigError, match="cost 3 exceeds the limit 2"):
        ViewLimit("2/minute", cost=3)
    with pytest.raises(ConfigError, match="a view limit takes a limit string"):
        ViewLimit(None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="key must be a callable or one of"):
        ViewLimit(lambda request: "1/minute", key="cookie")


async def test_the_user_is_looked_up_only_when_a_matched_rule_counts_by_user(
    is_async: bool,
) -> None:
    looked: list[str] = []

    def user() -> str:
        looked.append("sync")
        return "alice"

    async def auser() -> str:
        looked.append("async")
        return "alice"

    requests = limiter(
        rules=[{"limit": "1/minute", "key": "user", "paths": ["^/account"]}, {"limit": "9/minute"}]
    )
    lookup = auser if is_async else user
    for _ in range(2):
        assert await decide(requests, RequestView("GET", "/", "1.2.3.4", user=lookup), is_async)
    assert looked == []
    account = RequestView("GET", "/account", "1.2.3.4", user=lookup)
    assert [(await decide(requests, account, is_async)).status for _ in range(2)] == [None, 429]
    assert looked == ["async" if is_async else "sync"] * 2
    with pytest.raises(TypeError, match="user lookup"):
        requests.check(RequestView("GET", "/account", "1.2.3.4", user=auser))


def test_limiters_of_recent_keys_are_kept_and_the_least_recent_evicted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(limiter_module, "LIMITERS_KEPT", 2)
    requests = limiter(limits="5/minute")
    cache = requests.rules[0].limits[0].limiter
    for peer in ("1.1.1.1", "2.2.2.2", "1.1.1.1", "3.3.3.3", "1.1.1.1"):
        requests.check(RequestView("GET", "/", peer))
    info = cache.cache_info()
    assert (info.hits, info.misses, info.currsize) == (2, 3, 2)


class AbsurdStorage(InMemoryStorage):
    """A storage returning a result no decision could make (an infinite wait)."""

    def consume(self, *args: Any) -> RateLimit:
        return RateLimit(False, 5, 0, float("inf"), float("inf"), START)


async def test_a_result_that_cannot_be_rendered_is_a_storage_failure(is_async: bool) -> None:
    requests = limiter(limits="5/minute", storage=AbsurdStorage())
    assert (await decide(requests, GET, is_async)).status is None
    closed = limiter(limits="5/minute", storage=AbsurdStorage(), fail_open=False)
    assert (await decide(closed, GET, is_async)).status == 503


class FlakyStorage(InMemoryStorage):
    def consume(self, *args: Any) -> Any:
        raise ConnectionError("storage down")


def test_failures_are_logged_once_then_a_line_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    clock = FrozenClock(START)
    storage = FlakyStorage(clock=clock)
    requests = RequestLimiter(limits="100/minute", storage=storage, clock=clock)
    with caplog.at_level(logging.WARNING, "throttle_core.http"):
        for _ in range(20):
            requests.check(GET)
            clock.advance(1)
        assert len(caplog.records) == 1
        assert caplog.records[0].exc_info is not None
        assert "letting the request through" in caplog.text
        for _ in range(45):
            requests.check(GET)
            clock.advance(1)
        assert len(caplog.records) == 2
        assert caplog.records[1].exc_info is None
        assert caplog.records[1].getMessage() == (
            "rate-limit storage still failing (ConnectionError: storage down): 60 requests let "
            "through and 0 refused in the last minute"
        )
        clock.advance(REPORT_EVERY)
        requests.check(GET)
        assert len(caplog.records) == 3
        assert caplog.records[2].exc_info is not None


def test_a_view_without_limits_of_its_own_is_checked_as_the_global_rules_alone() -> None:
    from throttle_core.http import GLOBAL

    limit = ViewLimit("1/minute")
    assert ViewLimits.of((), "app.views.home", True) is GLOBAL
    assert ViewLimits.of((), "app.views.home", False) == ViewLimits((), "app.views.home", False)
    assert ViewLimits.of((limit,), "app.views.home", True) == ViewLimits(
        (limit,), "app.views.home", True
    )
