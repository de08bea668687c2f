"""The PL/pgSQL decision function is the Python policies: the same random sequences of
consumes, bookings and refunds leave bit-identical states (and expiry times) in PostgreSQL
and in pure Python, and give the same decisions; so does stored data Python cannot decode."""

from __future__ import annotations

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
from tests.core.storage.stored_data import GOOD, decided_as_absent, spoiled, stored_text
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
    with storage._connections.connection() as connection:
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


def store_raw(storage: PostgresStorage, id: str, data: Any) -> None:
    text = stored_text(data)
    statement = psycopg.sql.SQL(
        "INSERT INTO {} (id, data, expires_at) VALUES (%s, %s::jsonb, 'infinity')"
    )
    with storage._connections.connection() as connection:
        connection.execute(statement.format(storage.sql.table), (id, text))


@pytest.mark.parametrize("policy", POLICIES, ids=policy_id)
def test_undecodable_or_foreign_states_are_absent_in_sql_and_python(
    storage: PostgresStorage, policy: LimiterPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    kind = policy.name
    for data in spoiled(kind):
        id = next(ids)
        store_raw(storage, id, data)
        decided_as_absent(storage, policy, id, data, caplog)


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
    with storage._connections.connection() as connection:
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
