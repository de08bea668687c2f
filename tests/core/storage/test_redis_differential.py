"""The Lua scripts are the Python policies: the same random sequences of consumes, bookings and
refunds give bit-identical decisions and stored states on Redis and in pure Python, whether the
script reads the state's usual layout with its pattern or decodes another layout in full."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import START
from tests.redis_support import delete_keys
from throttle_core import Rate, ReserveNotSupported
from throttle_core.policies import (
    FixedWindow,
    LimiterPolicy,
    SlidingWindow,
    TokenBucket,
    state_from_dict,
)
from throttle_core.storage.redis import RedisStorage

pytestmark = pytest.mark.redis

INTERVALS = [0.7, 1.0, 2.5, 60.0, 3600.0 / 7]
ids = (f"diff:{n}" for n in itertools.count())
SUFFIXES = ["", "/v1/items", '"quoted"', "back\\slash", "caf\u00e9", "a b", "\x7f"]
"""Id endings that JSON writes escaped or that a cheap encoder might get wrong."""


@dataclass(frozen=True)
class Step:
    """Move the clock by `advance`, then consume (max_wait None: reserve without bound) or
    give back `tokens` booked at now + `at`; `resave` first rewrites the key from Python."""

    advance: float
    refund: bool
    tokens: int
    max_wait: float | None
    at: float
    resave: bool


def steps(interval: float, limit: int) -> st.SearchStrategy[list[Step]]:
    advance = st.one_of(
        st.floats(0, 2.5 * interval, allow_nan=False),
        st.sampled_from([0.0, 1e-6, interval / 2, interval]),
    )
    step = st.builds(
        Step,
        advance,
        st.booleans(),
        st.integers(0, limit),
        st.one_of(st.none(), st.just(0.0), st.floats(0, 3 * interval, allow_nan=False)),
        st.floats(-2 * interval, 2 * interval, allow_nan=False),
        st.booleans(),
    )
    return st.lists(step, min_size=1, max_size=40)


@st.composite
def scenarios(draw: st.DrawFn, kind: str) -> tuple[LimiterPolicy, float, list[Step]]:
    limit = draw(st.integers(1, 12))
    interval = draw(st.sampled_from(INTERVALS))
    policy: LimiterPolicy
    if kind == "token_bucket":
        policy = TokenBucket(limit, Rate(interval, draw(st.integers(1, 5))))
    elif kind == "sliding_window":
        policy = SlidingWindow(limit, interval)
    else:
        policy = FixedWindow(limit, interval, kind.removeprefix("fixed_window:"))  # type: ignore[arg-type]
    start = START + draw(st.floats(0, 10 * interval, allow_nan=False))
    return policy, start, draw(steps(interval, limit))


@pytest.fixture(scope="module")
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def storage(client: redis.Redis) -> Iterator[RedisStorage]:
    prefix = f"test:differential:{uuid.uuid4().hex}:"
    yield RedisStorage(client, prefix)
    delete_keys(client, prefix)


def outcome(decide: Callable[..., Any], *args: Any) -> Any:
    """A decision, or the type of the error it raised."""
    try:
        return decide(*args)
    except ReserveNotSupported as error:
        return type(error)


def replay(
    storage: RedisStorage,
    client: redis.Redis,
    policy: LimiterPolicy,
    now: float,
    plan: list[Step],
    suffix: str = "",
) -> None:
    id = next(ids) + suffix
    state: Any = None
    for step in plan:
        now += step.advance
        tokens = min(step.tokens, policy.limit)
        if step.resave and state is not None:
            storage.save(state)
        if step.refund:
            at = now + step.at
            storage.refund(policy, id, tokens, at, now)
            state = policy.refund(state, now, tokens, at) or state
        else:
            decided = outcome(policy.decide, id, state, now, tokens, step.max_wait)
            result = outcome(storage.consume, policy, id, tokens, step.max_wait, now)
            if isinstance(decided, tuple):
                new, expected = decided
                assert result == expected, step
                state = new or state
            else:
                assert result is decided, step
        stored = storage.fetch(id)
        assert stored == state, step
        if state is not None:
            ttl_ms = client.pttl(storage.key(id))
            assert state.expiration_time * 1000 - 5000 < ttl_ms <= state.expiration_time * 1000


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios("token_bucket"), st.sampled_from(SUFFIXES))
def test_token_bucket_lua_is_the_python_policy(
    storage: RedisStorage,
    client: redis.Redis,
    scenario: tuple[LimiterPolicy, float, list[Step]],
    suffix: str,
) -> None:
    replay(storage, client, *scenario, suffix)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios("fixed_window:clock"), st.sampled_from(SUFFIXES))
def test_clock_aligned_fixed_window_lua_is_the_python_policy(
    storage: RedisStorage,
    client: redis.Redis,
    scenario: tuple[LimiterPolicy, float, list[Step]],
    suffix: str,
) -> None:
    replay(storage, client, *scenario, suffix)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios("fixed_window:first_hit"), st.sampled_from(SUFFIXES))
def test_first_hit_fixed_window_lua_is_the_python_policy(
    storage: RedisStorage,
    client: redis.Redis,
    scenario: tuple[LimiterPolicy, float, list[Step]],
    suffix: str,
) -> None:
    replay(storage, client, *scenario, suffix)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios("sliding_window"), st.sampled_from(SUFFIXES))
def test_sliding_window_lua_is_the_python_policy(
    storage: RedisStorage,
    client: redis.Redis,
    scenario: tuple[LimiterPolicy, float, list[Step]],
    suffix: str,
) -> None:
    replay(storage, client, *scenario, suffix)


@pytest.mark.parametrize(
    "policy",
    [
        TokenBucket(5, Rate(1.0, 1)),
        FixedWindow(5, 1.0, "clock"),
        FixedWindow(5, 1.0, "first_hit"),
        SlidingWindow(5, 1.0),
    ],
    ids=lambda p: f"{p.name}:{getattr(p, 'align', '')}",
)
def test_server_time_decisions_match_python_at_the_time_they_report(
    storage: RedisStorage, client: redis.Redis, policy: LimiterPolicy
) -> None:
    id = next(ids)
    before = client.time()
    state: Any = None
    for tokens in (2, 3, 1, 0):
        result = storage.consume(policy, id, tokens, 0.0, None)
        new, expected = policy.decide(id, state, result.now, tokens, 0.0)
        assert result == expected
        assert result.now >= before[0] + before[1] / 1e6
        state = new or state
        assert storage.fetch(id) == state


LAYOUT_POLICIES = [
    TokenBucket(10, Rate(60.0, 10)),
    FixedWindow(10, 60.0, "clock"),
    FixedWindow(10, 60.0, "first_hit"),
    SlidingWindow(10, 60.0),
]


def layouts(state: Any) -> list[str]:
    """Valid JSON of `state` that the scripts' patterns do not read: other key orders and
    spacing, escaped slashes, and another state id under the key."""
    data = state.to_dict()
    return [
        json.dumps(data, indent=1, sort_keys=True),
        json.dumps(data).replace("/", "\\/"),
        json.dumps({**data, "id": "elsewhere"}, separators=(",", ":")),
    ]


@pytest.mark.parametrize(
    "policy", LAYOUT_POLICIES, ids=lambda p: f"{p.name}:{getattr(p, 'align', '')}"
)
@pytest.mark.parametrize("refund", [False, True], ids=["consume", "refund"])
def test_states_in_other_layouts_are_decoded_in_full(
    storage: RedisStorage,
    client: redis.Redis,
    caplog: pytest.LogCaptureFixture,
    policy: LimiterPolicy,
    refund: bool,
) -> None:
    template, _ = policy.decide("api:/v1", None, START + 1.5, 4, 0.0)
    if not isinstance(policy, SlidingWindow):
        template, _ = policy.decide("api:/v1", template, START + 2.25, 10, None)  # type: ignore[arg-type]
    assert template is not None
    now = START + 30.25
    for raw in layouts(template):
        id = next(ids) + "/v1"
        state = state_from_dict(json.loads(raw))
        client.set(storage.key(id), raw)
        if refund:
            storage.refund(policy, id, 3, now, now)
            expected = policy.refund(state, now, 3, now) or state  # type: ignore[arg-type]
        else:
            new, decided = policy.decide(id, state, now, 2, 0.0)  # type: ignore[arg-type]
            assert storage.consume(policy, id, 2, 0.0, now) == decided, raw
            expected = new or state
        assert storage.fetch(id) == expected, raw
    assert not caplog.records
