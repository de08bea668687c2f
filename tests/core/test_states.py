"""State encoding: round trips, and bad stored data treated as absent and logged."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conformance.bench import DictStorage
from throttle_core import FrozenClock, InvalidStateError, RateLimiterFactory, state_from_dict
from throttle_core.policies import FixedWindowState, SlidingWindowState, TokenBucketState

ids = st.text(min_size=1, max_size=20)
times = st.floats(min_value=0, max_value=4e9, allow_nan=False)
counts = st.integers(min_value=0, max_value=10**6)
states = st.one_of(
    st.builds(TokenBucketState, ids, st.integers(1, 10**6),
              st.floats(min_value=1e-6, max_value=1e6), st.floats(-1e6, 1.0), times),
    st.builds(FixedWindowState, ids, st.floats(min_value=1e-3, max_value=1e8), times,
              st.lists(counts, min_size=1, max_size=5).map(tuple), times),
    st.builds(SlidingWindowState, ids, st.floats(min_value=1e-3, max_value=1e8), times,
              counts, counts, times),
)  # fmt: skip


@given(states)
def test_every_state_round_trips_through_json(state: Any) -> None:
    data = json.loads(json.dumps(state.to_dict()))
    assert data["type"] == state.type
    assert data["v"] == 1
    assert state_from_dict(data) == state
    assert state.expiration_time >= 1


def test_expiration_times() -> None:
    assert TokenBucketState("a", 10, 0.5, 4.0, 0.0).expiration_time == 12
    assert TokenBucketState("a", 10, 0.5, 10.0, 0.0).expiration_time == 1
    assert FixedWindowState("a", 60.0, 0.0, (3, 2), 30.0).expiration_time == 90
    assert SlidingWindowState("a", 60.0, 60.0, 1, 1, 90.5).expiration_time == 90


@pytest.mark.parametrize(
    "data",
    [
        None, [], "token_bucket", {"type": "leaky"}, {"type": "token_bucket"},
        {"type": "token_bucket", "v": 2, "id": "a", "limit": 1, "rate": 1.0, "tokens": 1.0,
         "timer": 0.0},
        {"type": "token_bucket", "v": 1, "id": "a", "limit": 1, "rate": "fast", "tokens": 1.0,
         "timer": 0.0},
        {"type": "token_bucket", "v": 1, "id": 5, "limit": 1, "rate": 1.0, "tokens": 1.0,
         "timer": 0.0},
        {"type": "token_bucket", "v": 1, "id": "a", "limit": 1.5, "rate": 1.0, "tokens": 1.0,
         "timer": 0.0},
        {"type": "fixed_window", "v": 1, "id": "a", "interval": 60.0, "start": 0.0,
         "hits": [], "timer": 0.0},
        {"type": "fixed_window", "v": 1, "id": "a", "interval": 60.0, "start": 0.0,
         "hits": [1, -1], "timer": 0.0},
        {"type": "sliding_window", "v": 1, "id": "a", "interval": 60.0, "start": 0.0,
         "previous": True, "current": 1, "timer": 0.0},
        {"type": "sliding_window", "v": True, "id": "a", "interval": 60.0, "start": 0.0,
         "previous": 1, "current": 1, "timer": 0.0},
        {"type": "token_bucket", "v": 1, "id": "a", "limit": 1, "rate": 1.0, "tokens": 10**400,
         "timer": 0.0},
    ],
)  # fmt: skip
def test_malformed_states_raise_invalid_state_error(data: Any) -> None:
    with pytest.raises(InvalidStateError):
        state_from_dict(data)


class CorruptStorage(DictStorage):
    """A user storage whose stored JSON was damaged."""

    def fetch(self, id: str) -> Any:
        return state_from_dict({"type": "token_bucket", "v": 1, "id": id})


def test_undecodable_state_is_treated_as_absent_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FrozenClock(0)
    limiter = RateLimiterFactory("2/minute", CorruptStorage(), clock=clock).create("k")
    with caplog.at_level(logging.WARNING, "throttle_core"):
        result = limiter.consume()
    assert (result.accepted, result.remaining) == (True, 1)
    assert "undecodable state of '2-per-minute:k'" in caplog.text


class GarbledJsonStorage(DictStorage):
    """A save/fetch/delete user storage whose stored JSON is cut short."""

    def fetch(self, id: str) -> Any:
        return state_from_dict(json.loads('{"type": "token_bu'))


async def test_undecodable_json_is_treated_as_absent_on_both_paths(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = RateLimiterFactory("2/minute", GarbledJsonStorage()).create("k")
    with caplog.at_level(logging.WARNING, "throttle_core"):
        assert limiter.consume().remaining == 1
        assert (await limiter.aconsume()).remaining == 1
    assert caplog.text.count("undecodable state of '2-per-minute:k'") == 2


def test_a_state_of_another_policy_is_ignored_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    storage = DictStorage()
    clock = FrozenClock(0)
    RateLimiterFactory({"policy": "token_bucket", "id": "x", "limit": 3, "rate": "3/minute"},
                       storage, clock=clock).create().consume(3)  # fmt: skip
    window = RateLimiterFactory({"policy": "fixed_window", "id": "x", "limit": 3,
                                 "interval": 60}, storage, clock=clock).create()  # fmt: skip
    with caplog.at_level(logging.WARNING, "throttle_core"):
        assert window.consume(3).accepted
    assert "ignoring a token_bucket state of 'x' from DictStorage" in caplog.text
