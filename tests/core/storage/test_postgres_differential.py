"""The PL/pgSQL decision function is the Python policies: the same random sequences of
consumes, bookings and refunds leave bit-identical states (and expiry times) in PostgreSQL
and in pure Python, and give the same decisions; so does stored data Python cannot decode."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import START
from tests.core.storage.differential import KINDS, POLICIES, Step, ids, policy_id, scenarios
from tests.core.storage.differential import replay as run_both
from throttle_core import FrozenClock
from throttle_core.policies import LimiterPolicy
from throttle_core.storage.postgres import PostgresStorage

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def connection(postgres_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def storage(connection: psycopg.Connection[Any]) -> Iterator[PostgresStorage]:
    storage = PostgresStorage(
        connection, f"differential_{uuid.uuid4().hex[:12]}", clock=FrozenClock(START)
    )
    storage.create_table()
    yield storage
    storage.drop_table()


def expires_at(storage: PostgresStorage, id: str) -> float:
    statement = psycopg.sql.SQL("SELECT date_part('epoch', expires_at) FROM {} WHERE id = %s")
    with storage._connection() as connection:
        row = connection.execute(statement.format(storage.sql.table), (id,), binary=True).fetchone()
    assert row is not None
    return float(row[0])


def replay(storage: PostgresStorage, policy: LimiterPolicy, now: float, plan: list[Step]) -> None:
    """Run `plan` on both sides. The storage's own clock stays at START, so rows never expire
    here (expiry is tested in test_postgres_storage) and `expires_at` is START + the TTL."""
    clock = storage.clock
    assert clock is not None

    def check_expiry(id: str, state: Any, written: bool) -> None:
        if written:
            expected = clock.now() + state.expiration_time
            assert expires_at(storage, id) == pytest.approx(expected, abs=1e-5)

    run_both(storage, policy, now, plan, next(ids), check_expiry)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_sql_function_is_the_python_policy(
    storage: PostgresStorage, kind: str, data: st.DataObject
) -> None:
    replay(storage, *data.draw(scenarios(kind)))


GOOD: dict[str, dict[str, Any]] = {
    "token_bucket": {"limit": 5, "rate": 1.0, "tokens": 2.5, "timer": START},
    "fixed_window": {"interval": 1.0, "start": START, "hits": [4, 1], "timer": START},
    "sliding_window": {
        "interval": 1.0,
        "start": START,
        "previous": 3,
        "current": 2,
        "timer": START,
    },
}
"""A valid stored state of each policy (with "type", "v" and "id" added), to spoil below."""


def spoiled(kind: str) -> list[Any]:
    """Stored values `from_dict` refuses: wrong shapes, types, versions and numbers."""
    good = {"type": kind, "v": 1, "id": "x", **GOOD[kind]}
    field = next(iter(GOOD[kind]))
    bad: list[Any] = [None, "text", 7, [good], {}, {**good, "type": "nope"}, {**good, "v": 2}]
    bad += [{k: v for k, v in good.items() if k != field}, {**good, "id": 3}]
    bad += [{**good, field: "1"}, {**good, field: True}, {**good, field: None}]
    bad += [{**good, field: 1e400}, {**good, field: [1]}]
    if kind == "fixed_window":
        bad += [{**good, "hits": []}, {**good, "hits": [-1]}, {**good, "hits": [1.5]}]
        bad += [{**good, "hits": [1.0]}, {**good, "hits": ["1"]}, {**good, "hits": 1}]
    else:
        bad += [{**good, "limit" if kind == "token_bucket" else "previous": 1.5}]
    other = next(k for k in GOOD if k != kind)
    return [*bad, {"type": other, "v": 1, "id": "x", **GOOD[other]}]


def store_raw(storage: PostgresStorage, id: str, data: Any) -> None:
    text = json.dumps(data).replace("1e+400", "1e400").replace("Infinity", "1e400")
    statement = psycopg.sql.SQL(
        "INSERT INTO {} (id, data, expires_at) VALUES (%s, %s::jsonb, 'infinity')"
    )
    with storage._connection() as connection:
        connection.execute(statement.format(storage.sql.table), (id, text))


@pytest.mark.parametrize("policy", POLICIES, ids=policy_id)
def test_undecodable_or_foreign_states_are_absent_in_sql_and_python(
    storage: PostgresStorage, policy: LimiterPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    kind = policy.name
    for data in spoiled(kind):
        id = next(ids)
        store_raw(storage, id, data)
        with caplog.at_level(logging.WARNING, "throttle_core.storage"):
            caplog.clear()
            result = storage.consume(policy, id, 2, 0.0, START)
        assert caplog.records, data
        new, expected = policy.decide(id, None, START, 2, 0.0)
        assert result == expected, data
        assert storage.fetch(id) == new, data


@pytest.mark.parametrize("policy", POLICIES, ids=policy_id)
def test_a_valid_stored_state_is_decided_on(
    storage: PostgresStorage, policy: LimiterPolicy
) -> None:
    id = next(ids)
    data = {"type": policy.name, "v": 1, "id": id, **GOOD[policy.name]}
    store_raw(storage, id, data)
    state = storage.fetch(id)
    assert state is not None
    new, expected = policy.decide(id, state, START + 0.25, 1, 0.0)
    assert storage.consume(policy, id, 1, 0.0, START + 0.25) == expected
    assert storage.fetch(id) == (new or state)


@pytest.mark.parametrize("policy", POLICIES, ids=policy_id)
def test_server_time_decisions_match_python_at_the_time_they_report(
    storage: PostgresStorage, policy: LimiterPolicy
) -> None:
    id = next(ids)
    with storage._connection() as connection:
        row = connection.execute("SELECT date_part('epoch', clock_timestamp())").fetchone()
    assert row is not None
    state: Any = None
    previous = float(row[0])
    for tokens in (2, 3, 1, 0):
        result = storage.consume(policy, id, tokens, 0.0, None)
        new, expected = policy.decide(id, state, result.now, tokens, 0.0)
        assert result == expected
        assert result.now >= previous
        previous = result.now
        state = new or state
        assert storage.fetch(id) == state
