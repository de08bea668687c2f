"""The Lua scripts are the Python policies: the same random sequences of consumes, bookings and
refunds give bit-identical decisions and stored states on Redis and in pure Python, whether the
script reads the state's usual layout with its pattern or decodes another layout in full."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import START
from tests.core.storage.differential import (
    KINDS,
    POLICIES,
    Step,
    ids,
    policy_id,
    scenarios,
)
from tests.core.storage.differential import replay as run_both
from tests.redis_support import delete_keys
from throttle_core import Rate
from throttle_core.policies import (
    FixedWindow,
    FixedWindowState,
    LimiterPolicy,
    SlidingWindow,
    TokenBucket,
    state_from_dict,
)
from throttle_core.policies.gcra import GCRA
from throttle_core.storage.redis import RedisStorage

pytestmark = pytest.mark.redis

SUFFIXES = ["", "/v1/items", '"quoted"', "back\\slash", "caf\u00e9", "a b", "\x7f"]
"""Id endings that JSON writes escaped or that a cheap encoder might get wrong."""


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


def replay(
    storage: RedisStorage,
    client: redis.Redis,
    policy: LimiterPolicy,
    now: float,
    plan: list[Step],
    suffix: str = "",
) -> None:
    def check_expiry(id: str, state: Any, written: bool) -> None:
        ttl_ms = client.pttl(storage.key(id))
        assert state.expiration_time * 1000 - 5000 < ttl_ms <= state.expiration_time * 1000

    run_both(storage, policy, now, plan, next(ids) + suffix, check_expiry)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_lua_script_is_the_python_policy(
    storage: RedisStorage, client: redis.Redis, kind: str, data: st.DataObject
) -> None:
    replay(storage, client, *data.draw(scenarios(kind)), data.draw(st.sampled_from(SUFFIXES)))


@pytest.mark.parametrize("policy", POLICIES, ids=policy_id)
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
    GCRA(10, Rate(60.0, 10)),
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
        template, _ = policy.decide("api:/v1", template, START + 2.25, 10, None)
    assert template is not None
    now = START + 30.25
    for raw in layouts(template):
        id = next(ids) + "/v1"
        state = state_from_dict(json.loads(raw))
        client.set(storage.key(id), raw)
        if refund:
            storage.refund(policy, id, 3, now, now)
            expected = policy.refund(state, now, 3, now) or state
        else:
            new, decided = policy.decide(id, state, now, 2, 0.0)
            assert storage.consume(policy, id, 2, 0.0, now) == decided, raw
            expected = new or state
        assert storage.fetch(id) == expected, raw
    assert not caplog.records


@pytest.mark.parametrize(
    ("start", "interval", "now", "new_start"),
    [
        # now is below start + interval as rounded, yet (now - start) / interval is 1: the
        # window is over, and the next one starts an interval after it.
        (-543593561.2892501, 2243513561.2892504, 1699920000.0, 1699920000.0000002),
        # now is start + interval as rounded, yet (now - start) / interval is below 1: the
        # window is over, and a new one starts at now.
        (1699920336.990685, 0.1, 1699920337.090685, 1699920337.090685),
    ],
    ids=["quotient-rounds-up", "sum-rounds-down"],
)
def test_first_hit_window_ends_under_rounding_are_decided_as_in_python(
    storage: RedisStorage,
    client: redis.Redis,
    start: float,
    interval: float,
    now: float,
    new_start: float,
) -> None:
    policy = FixedWindow(5, interval, "first_hit")
    id = next(ids)
    state = FixedWindowState(id, interval, start, (1,), start)
    client.set(storage.key(id), json.dumps(state.to_dict(), separators=(",", ":")))
    new, expected = policy.decide(id, state, now, 1, None)
    assert storage.consume(policy, id, 1, None, now) == expected
    assert new is not None
    assert (new.start, new.hits) == (new_start, (1,))
    assert storage.fetch(id) == new
