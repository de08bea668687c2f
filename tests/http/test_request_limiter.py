"""The decision for one request: every matching rule as one compound limit, sync and async."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.conformance.bench import DictStorage
from tests.conftest import START
from tests.http.problems import quota_exceeded
from throttle_core import ConfigError, FrozenClock, InMemoryStorage, LocalLock
from throttle_core.http import PASS, Decision, RequestLimiter, RequestView, Rule


@pytest.fixture(params=["sync", "async"])
def is_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param == "async")


async def decide(limiter: RequestLimiter, view: RequestView, is_async: bool) -> Decision:
    return await limiter.acheck(view) if is_async else limiter.check(view)


def get(path: str = "/", peer: str = "198.51.100.1", method: str = "GET") -> RequestView:
    return RequestView(method, path, peer)


def limiter(**options: Any) -> RequestLimiter:
    clock = FrozenClock(START)
    options.setdefault("storage", InMemoryStorage(clock=clock))
    return RequestLimiter(clock=clock, **options)


async def test_accepts_up_to_the_limit_then_refuses_with_headers_and_body(is_async: bool) -> None:
    requests = limiter(limits=["3/minute"], headers="ietf")
    seen = [await decide(requests, get(), is_async) for _ in range(4)]
    assert [d.status for d in seen] == [None, None, None, 429]
    assert seen[0].headers == (
        ("RateLimit-Policy", '"3-per-minute";q=3;w=60'),
        ("RateLimit", '"3-per-minute";r=2;t=60'),
    )
    refused = seen[3]
    assert refused.headers == (
        ("Retry-After", "60"),
        ("RateLimit-Policy", '"3-per-minute";q=3;w=60'),
        ("RateLimit", '"3-per-minute";r=0;t=60'),
    )
    assert refused.violated == ("3-per-minute",)
    assert refused.retry_after == 60
    assert json.loads(refused.body()) == quota_exceeded("3-per-minute", 60)
    assert refused.response_headers()[:2] == [
        ("Content-Type", "application/problem+json"),
        ("Cache-Control", "no-store"),
    ]
    assert (await decide(requests, get(peer="198.51.100.2"), is_async)).allowed


async def test_matching_rules_decide_together_and_a_refusal_takes_nothing(is_async: bool) -> None:
    requests = limiter(
        limits=["5/minute"],
        rules=[Rule("2/minute", paths=[r"^/login$"], methods=["POST"], id="login")],
        headers="ietf",
    )
    for _ in range(2):
        assert (await decide(requests, get("/login", method="POST"), is_async)).allowed
    refused = await decide(requests, get("/login", method="POST"), is_async)
    assert refused.status == 429
    assert refused.violated == ("login",)
    name, value = refused.headers[2]
    assert name == "RateLimit"
    assert value.startswith('"5-per-minute";r=3;t=')
    assert value.endswith(', "login";r=0;t=60')
    assert (await decide(requests, get("/login"), is_async)).headers[1] == (
        "RateLimit",
        '"5-per-minute";r=2;t=100',
    )


async def test_each_rule_takes_its_own_cost(is_async: bool) -> None:
    requests = limiter(
        limits=["100/minute"], rules=[Rule("10/minute", paths="^/export", cost=4, id="export")]
    )
    first = await decide(requests, get("/export"), is_async)
    assert [m.remaining for m in first.rate_limit.members] == [99, 6]  # type: ignore[union-attr]
    await decide(requests, get("/export"), is_async)
    refused = await decide(requests, get("/export"), is_async)
    assert refused.status == 429
    assert [m.remaining for m in refused.rate_limit.members] == [98, 2]  # type: ignore[union-attr]


async def test_exempt_rules_and_disabled_limiting_decide_nothing(is_async: bool) -> None:
    requests = limiter(limits=["1/minute"], rules=[Rule(exempt=True, paths=[r"^/health$"])])
    for _ in range(3):
        assert await decide(requests, get("/health"), is_async) is PASS
    assert (await decide(requests, get("/"), is_async)).headers
    off = limiter(limits=["1/minute"], enabled=False)
    for _ in range(3):
        assert await decide(off, get(), is_async) is PASS


async def test_a_rule_whose_key_is_none_does_not_apply(is_async: bool) -> None:
    requests = limiter(rules=[Rule("1/minute", key="header:X-Api-Key")])
    for _ in range(3):
        assert await decide(requests, get(), is_async) is PASS
    keyed = RequestView("GET", "/", "198.51.100.1", headers=_headers(("X-Api-Key", "k1")))
    assert (await decide(requests, keyed, is_async)).allowed
    assert (await decide(requests, keyed, is_async)).status == 429


def _headers(*pairs: tuple[str, str]) -> Any:
    from throttle_core.http import Headers

    return Headers(list(pairs))


async def test_no_limit_rules_pass_and_stay_out_of_headers(is_async: bool) -> None:
    requests = limiter(limits=[{"policy": "no_limit", "id": "free"}, "2/minute"], headers="ietf")
    decision = await decide(requests, get(), is_async)
    assert decision.headers[0] == ("RateLimit-Policy", '"2-per-minute";q=2;w=60')
    only_free = limiter(limits=[{"policy": "no_limit", "id": "free"}])
    assert (await decide(only_free, get(), is_async)).headers == ()


class BrokenStorage(InMemoryStorage):
    """A storage whose server is gone."""

    def consume(self, *args: Any) -> Any:
        raise ConnectionError("storage down")

    async def aconsume(self, *args: Any) -> Any:
        raise ConnectionError("storage down")


async def test_a_failing_storage_lets_requests_through_or_answers_503(
    is_async: bool, caplog: pytest.LogCaptureFixture
) -> None:
    open_ = limiter(limits=["1/minute"], storage=BrokenStorage())
    with caplog.at_level(logging.WARNING, "throttle_core.http"):
        assert await decide(open_, get(), is_async) is PASS
    assert "letting the request through" in caplog.text
    assert "storage down" in caplog.text
    closed = limiter(limits=["1/minute"], storage=BrokenStorage(), fail_open=False)
    decision = await decide(closed, get(), is_async)
    assert decision.status == 503
    assert decision.retry_after is None
    assert json.loads(decision.body()) == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The rate limiter cannot reach its storage; try again later.",
    }


async def test_a_user_storage_works_through_the_generic_path(is_async: bool) -> None:
    requests = limiter(limits=["2/minute"], storage=DictStorage())
    assert [(await decide(requests, get(), is_async)).status for _ in range(3)] == [None, None, 429]


def test_default_storage_is_in_memory_and_urls_work() -> None:
    assert isinstance(RequestLimiter().storage, InMemoryStorage)
    assert isinstance(RequestLimiter(storage="memory://?max_keys=10").storage, InMemoryStorage)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rules": ["5/minute"]}, "rules must be Rule objects or dicts of Rule keywords, got '5/m"),
        ({"rules": "5/minute"}, "rules must be a list of Rules or of dicts of Rule keywords"),
        ({"rules": [{"limit": "5/minute", "paht": "^/"}]},
         "unknown rule field 'paht'; did you mean 'paths'?"),
        ({"limits": None}, "limits must be a limit string, a config dict, a Rule, or a list"),
        ({"limits": [5]}, "limits entries must be limit strings or config dicts, got 5"),
        ({"headers": 5}, "headers must be a style or a list of styles, got 5"),
        ({"trusted_proxies": 5}, "trusted_proxies must be a list of addresses or networks"),
        ({"trusted_proxies": ["10.0.0.1/8"]}, "'10.0.0.1/8' has host bits set"),
        ({"proxy_header": "auto"}, "proxy_header must be one of"),
        ({"ipv6_prefix": 129}, "ipv6_prefix must be from 1 to 128, got 129"),
        ({"limits": ["5 per fortnight"]}, "limit '5 per fortnight'"),
        ({"fail_open": "no"}, "fail_open must be True or False, got 'no'"),
        ({"enabled": 1}, "enabled must be True or False, got 1"),
        ({"storage": object()}, "storage must have save/fetch/delete"),
        ({"storage": "mysql://db"}, "unsupported storage URL 'mysql://db'"),
        ({"headers": "ietf-10"}, "headers style must be one of"),
        ({"key": "session"}, "key must be a callable or one of"),
        ({"trusted_proxies": ["nope"]}, "trusted_proxies entry 'nope'"),
        ({"lock": 5}, "lock must have acquire\\(\\) and release\\(\\), got 5"),
        ({"lock": LocalLock}, "lock must be a lock object, not the class LocalLock"),
        ({"rules": [{"limit": "5/minute", "methods": 5}]}, "methods must be a non-empty list"),
        ({"rules": [{"limit": "5/minute", "paths": 5}]}, "paths must be a non-empty list"),
        ({"rules": [{"limit": "5/minute", "paths": {"^/": 1}}]}, "paths must be a non-empty list"),
    ],
)  # fmt: skip
def test_bad_options_are_refused_naming_the_bad_value(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        RequestLimiter(**options)


def test_a_single_limit_string_is_one_default_rule() -> None:
    assert [b.rule.limit for b in RequestLimiter(limits="5/minute").rules] == ["5/minute"]


class CountingMemory(InMemoryStorage):
    """An in-memory storage of a subclass, which may override its async methods."""

    def __init__(self, clock: FrozenClock) -> None:
        super().__init__(clock=clock)
        self.awaited = 0

    async def aconsume(self, *args: Any) -> Any:
        self.awaited += 1
        return self.consume(*args)


async def test_acheck_awaits_only_key_functions_and_storages_that_may_wait() -> None:
    plain = limiter(limits=["2/minute"])
    assert plain.never_waits
    assert not plain.needs_request
    assert [(await plain.acheck(get())).status for _ in range(3)] == [None, None, 429]

    async def team(request: str) -> str:
        return request

    keyed = limiter(limits=[Rule("2/minute", key=team)])
    assert keyed.needs_request
    assert keyed.never_waits
    team_a = RequestView("GET", "/", None, request="team-a")
    assert [(await keyed.acheck(team_a)).status for _ in range(3)] == [None, None, 429]
    with pytest.raises(TypeError, match="key function is async"):
        keyed.check(team_a)

    clock = FrozenClock(START)
    counting = CountingMemory(clock)
    subclassed = RequestLimiter(limits=["2/minute"], storage=counting, clock=clock)
    assert not subclassed.never_waits
    assert [(await subclassed.acheck(get())).status for _ in range(3)] == [None, None, 429]
    assert counting.awaited == 3


class InProcessStorage:
    """A user storage of plain methods that declares it never waits on I/O."""

    never_waits = True

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.saved = 0

    def save(self, state: Any) -> None:
        self.saved += 1
        self.data[state.id] = state.to_dict()

    def fetch(self, id: str) -> Any:
        return self.data.get(id)

    def delete(self, id: str) -> None:
        self.data.pop(id, None)

    async def asave(self, state: Any) -> None:
        raise AssertionError("a storage that never waits is not awaited")

    async def afetch(self, id: str) -> Any:
        raise AssertionError("a storage that never waits is not awaited")

    async def adelete(self, id: str) -> None:
        raise AssertionError("a storage that never waits is not awaited")


async def test_a_user_storage_that_never_waits_is_called_directly() -> None:
    storage = InProcessStorage()
    declared = RequestLimiter(limits=["2/minute"], storage=storage, clock=FrozenClock(START))
    assert declared.never_waits
    assert [(await declared.acheck(get())).status for _ in range(3)] == [None, None, 429]
    assert storage.saved == 2
    locked = RequestLimiter(limits=["2/minute"], storage=storage, lock=LocalLock())
    assert not locked.never_waits


def test_views_and_decisions_are_immutable_named_tuples() -> None:
    view = get()
    assert view.headers.get("host") is None
    assert view.user is None
    assert view.request is None
    with pytest.raises(AttributeError):
        view.path = "/admin"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        PASS.status = 429  # type: ignore[misc]
    assert PASS.allowed
    assert PASS.headers == ()


def test_combine_keeps_the_limits_of_either_decision() -> None:
    """A response covered by one limiter's limits keeps their headers when another limiter
    that covered it applied none, and a 503 of the other is never hidden."""
    earlier = limiter(limits="2/minute").check(get())
    other = limiter(limits="3/minute")
    assert other.combine(earlier, PASS) == earlier
    assert other.combine(PASS, earlier) == earlier
    closed = Decision(503)
    assert other.combine(earlier, closed) == closed
    both = other.combine(earlier, other.check(get()))
    names = dict(both.headers)["RateLimit-Policy"]
    assert names == '"2-per-minute";q=2;w=60, "3-per-minute";q=3;w=60'


def test_needs_headers_only_for_header_keys_and_addresses_behind_trusted_proxies() -> None:
    assert not limiter(limits=["2/minute"]).needs_headers
    assert not limiter(limits=[Rule("2/minute", key="user")]).needs_headers
    assert not limiter(limits=[Rule("2/minute", key=lambda request: "team")]).needs_headers
    assert limiter(limits=[Rule("2/minute", key="header:X-Api-Key")]).needs_headers
    assert limiter(limits=["2/minute"], trusted_proxies=["10.0.0.0/8"]).needs_headers
    proxied = limiter(limits=[Rule("2/minute", key="path")], trusted_proxies=["10.0.0.0/8"])
    assert not proxied.needs_headers
