"""GCRA's exact edges in pure Python: a whole burst is admitted, `remaining` is what a consume
admits now, and a refused request is admitted at exactly `now + retry_after`, not before."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import START
from throttle_core import (
    ConfigError,
    FrozenClock,
    Rate,
    RateLimiterFactory,
    parse_limits,
    state_from_dict,
)
from throttle_core.counters import describe_config, inspect_counter
from throttle_core.policies import STATE_TYPES, TokenBucket
from throttle_core.policies.gcra import GCRA, GCRAState
from throttle_core.storage.memory import InMemoryStorage

rates = st.builds(Rate, st.sampled_from([0.7, 1.0, 2.5, 60.0, 3600.0 / 7]), st.integers(1, 1000))
steps = st.lists(
    st.tuples(
        st.one_of(st.floats(0, 5, allow_nan=False), st.sampled_from(["retry", "reset"])),
        st.integers(0, 30),
        st.one_of(st.none(), st.floats(0, 10, allow_nan=False)),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=300)
@given(st.integers(1, 200), rates, st.floats(0, 1e6, allow_nan=False))
def test_a_whole_burst_is_admitted_and_no_more(limit: int, rate: Rate, offset: float) -> None:
    policy, state, now = GCRA(limit, rate), None, START + offset
    for left in range(limit - 1, -1, -1):
        state, result = policy.decide("k", state, now, 1, 0.0)
        assert (result.accepted, result.remaining) == (True, left)
    assert policy.decide("k", state, now, 1, 0.0)[0] is None


@settings(max_examples=300)
@given(st.integers(1, 30), rates, steps)
def test_remaining_retry_and_reset_are_exact(
    limit: int, rate: Rate, plan: list[tuple[float | str, int, float | None]]
) -> None:
    policy, state, now = GCRA(limit, rate), None, START
    for advance, tokens, max_wait in plan:
        tokens = min(tokens, limit)
        peek = policy.decide("k", state, now, 0, None)[1]
        if advance == "retry":
            now += policy.decide("k", state, now, max(tokens, 1), 0.0)[1].retry_after
        elif advance == "reset":
            now += peek.reset_after
        else:
            assert isinstance(advance, float)
            now += advance
        peek = policy.decide("k", state, now, 0, None)[1]
        room = peek.remaining
        assert policy.decide("k", state, now, room, 0.0)[1].accepted or room == 0
        if room < limit:
            refused = policy.decide("k", state, now, room + 1, 0.0)[1]
            assert not refused.accepted
            assert refused.retry_after > 0
            at = now + refused.retry_after
            assert policy.decide("k", state, at, room + 1, 0.0)[1].accepted
            before = math.nextafter(at, -math.inf)
            assert not policy.decide("k", state, before, room + 1, 0.0)[1].accepted
        empty = now + peek.reset_after
        assert policy.decide("k", state, empty, 0, None)[1].remaining == limit
        new, result = policy.decide("k", state, now, tokens, max_wait)
        if new is not None:
            state = new
            assert state.problem(now) is None
            assert state.timer + state.expiration_time >= now + result.reset_after


@settings(max_examples=200)
@given(st.integers(1, 30), rates, st.integers(0, 30), st.integers(1, 30))
def test_cancel_gives_back_what_was_booked(limit: int, rate: Rate, taken: int, back: int) -> None:
    policy = GCRA(limit, rate)
    state, _ = policy.decide("k", None, START, min(taken, limit), None)
    booked, _ = policy.decide("k", state, START, limit, None)
    assert booked is not None
    after = policy.refund(booked, START, limit, START)
    assert after is not None
    assert (
        policy.decide("k", after, START, 0, None)[1] == policy.decide("k", state, START, 0, None)[1]
    )
    assert policy.refund(None, START, back, START) is None


def test_gcra_admits_what_a_token_bucket_of_the_same_rate_admits() -> None:
    gcra, bucket = GCRA(10, Rate(60, 10)), TokenBucket(10, Rate(60, 10))
    g_state = b_state = None
    for at, tokens in [(0, 4), (0, 6), (0, 1), (6, 1), (7, 1), (30, 5), (31, 1), (100, 10)]:
        g_state_new, g = gcra.decide("k", g_state, START + at, tokens, 0.0)
        b_state_new, b = bucket.decide("k", b_state, START + at, tokens, 0.0)
        assert (g.accepted, g.remaining) == (b.accepted, b.remaining)
        assert (g.retry_after, g.reset_after) == pytest.approx((b.retry_after, b.reset_after))
        g_state, b_state = g_state_new or g_state, b_state_new or b_state


def test_config_states_and_limit_strings() -> None:
    factory = RateLimiterFactory(
        {"policy": "gcra", "id": "api", "limit": 5, "rate": "10/minute"}, InMemoryStorage()
    )
    assert factory.config["rate"] == {"interval": 60.0, "amount": 10}
    assert isinstance(factory.policy, GCRA)
    assert factory.policy.period == 6.0
    assert parse_limits("10/minute", id="api", policy="gcra") == [
        {"policy": "gcra", "id": "api", "limit": 10, "rate": {"interval": 60.0, "amount": 10}}
    ]
    assert describe_config(factory.config) == "gcra, burst 5, 10 per minute"
    assert STATE_TYPES["gcra"] is GCRAState
    state = GCRAState("api:k", 5, 6.0, START, 3, START + 1)
    assert state_from_dict(state.to_dict()) == state
    with pytest.raises(ConfigError, match="needs 'rate'"):
        RateLimiterFactory({"policy": "gcra", "id": "x", "limit": 5}, InMemoryStorage())
    with pytest.raises(ConfigError, match="more than 100 years"):
        RateLimiterFactory(
            {"policy": "gcra", "id": "x", "limit": 10**6, "rate": "1/hour"}, InMemoryStorage()
        )


def test_inspect_reads_a_gcra_counter_without_its_config() -> None:
    clock = FrozenClock(START)
    storage = InMemoryStorage(clock=clock)
    factory = RateLimiterFactory(
        {"policy": "gcra", "id": "api", "limit": 5, "rate": "10/minute"}, storage, clock=clock
    )
    factory.create("k").consume(3)
    report = inspect_counter(storage, "api", "k", clock=clock)
    assert report.policy == "gcra"
    assert report.used == 3
    assert report.rate_limit is not None
    assert report.rate_limit.remaining == 2
    assert report.reset_after == pytest.approx(18.0)
    assert any("arrival time" in line for line in report.lines())
