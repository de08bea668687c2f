"""ModelStorage beyond the scenarios: rows as stored, bad rows, expiry and cleanup, Django's
transactions, and the errors a misconfiguration gets."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import pytest
from django.db import connections, transaction
from django.test import override_settings

from tests.conftest import START
from tests.core.storage.differential import POLICIES, policy_id
from tests.core.storage.stored_data import decided_as_absent, spoiled, stored_text
from throttle_core import ConfigError, FrozenClock, RateLimiterFactory
from throttle_core.policies import LimiterPolicy, TokenBucketState
from throttle_django.models import MAX_ID_LENGTH, State
from throttle_django.storage import ModelStorage

DATABASES = [
    pytest.param("default", marks=pytest.mark.django_db(transaction=True), id="sqlite"),
    pytest.param(
        "postgres",
        marks=[pytest.mark.django_db(transaction=True, databases=["postgres"]),
               pytest.mark.postgres],
        id="postgres",
    ),
]  # fmt: skip
LIMIT = {"policy": "fixed_window", "id": "api", "limit": 3, "interval": "1 minute"}


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.mark.parametrize("using", DATABASES)
def test_a_decision_is_one_row_with_the_state_and_its_expiry(
    using: str, clock: FrozenClock
) -> None:
    storage = ModelStorage(using, clock=clock)
    limiter = RateLimiterFactory(LIMIT, storage, clock=clock).create("alice")
    clock.advance(15)
    assert limiter.consume().remaining == 2
    row = State.objects.using(using).get()
    assert row.id == "api:alice"
    assert row.data["type"] == "fixed_window"
    assert row.data["hits"] == [1]
    assert row.expires_at == at(START + 60)
    assert isinstance(storage.fetch("api:alice").hits, tuple)


def plant(using: str, id: str, data: Any) -> None:
    """Store `data` as the row's JSON text, as a hand edit or an old version might."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {State._meta.db_table} (id, data, expires_at) VALUES (%s, %s, %s)",
            [id, stored_text(data), at(START + 600)],
        )


@pytest.mark.parametrize("policy", POLICIES, ids=policy_id)
@pytest.mark.parametrize("using", DATABASES)
def test_bad_rows_count_as_absent_are_logged_once_and_overwritten(
    using: str, policy: LimiterPolicy, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    storage = ModelStorage(using, clock=clock)
    for n, data in enumerate(spoiled(policy.name)):
        if data is None:
            continue
        id = f"bad:{n}"
        plant(using, id, data)
        decided_as_absent(storage, policy, id, data, caplog)


@pytest.mark.parametrize("using", DATABASES)
def test_expired_rows_are_absent_and_cleanup_deletes_only_them(
    using: str, clock: FrozenClock
) -> None:
    storage = ModelStorage(using, clock=clock)
    factory = RateLimiterFactory({**LIMIT, "align": "first_hit"}, storage, clock=clock)
    factory.create("old").consume(3)
    clock.advance(30)
    factory.create("new").consume(3)
    clock.advance(31)
    assert storage.fetch("api:old") is None
    assert storage.fetch("api:new") is not None
    assert storage.cleanup() == 1
    assert list(State.objects.using(using).values_list("id", flat=True)) == ["api:new"]
    assert storage.cleanup() == 0


@pytest.mark.parametrize("using", DATABASES)
def test_save_fetch_delete(using: str, clock: FrozenClock) -> None:
    storage = ModelStorage(using, clock=clock)
    state = TokenBucketState("t:k", 10, 2.0, 4.5, START)
    storage.save(state)
    storage.save(state)
    assert storage.fetch("t:k") == state
    storage.delete("t:k")
    assert storage.fetch("t:k") is None


@pytest.mark.parametrize("using", DATABASES)
def test_decisions_join_the_transaction_django_has_open(using: str, clock: FrozenClock) -> None:
    limiter = RateLimiterFactory(LIMIT, ModelStorage(using, clock=clock), clock=clock).create("k")

    def failing_view() -> None:
        with transaction.atomic(using=using):
            assert limiter.consume(3).accepted
            raise RuntimeError("the view failed")

    with pytest.raises(RuntimeError):
        failing_view()
    assert not State.objects.using(using).exists()
    with transaction.atomic(using=using):
        assert limiter.consume(3).accepted
    assert not limiter.consume().accepted


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases=["postgres"])
def test_only_a_decision_in_autocommit_mode_commits_asynchronously(clock: FrozenClock) -> None:
    """A trigger records the commit mode each decision's write runs under: Django's
    autocommit mode lets the decision skip the WAL flush, an atomic block keeps it."""
    table = State._meta.db_table
    seen = f"seen_commits_{uuid.uuid4().hex[:8]}"
    with connections["postgres"].cursor() as cursor:
        cursor.execute(f"""
            CREATE TABLE {seen} (n serial, setting text);
            CREATE FUNCTION {seen}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                INSERT INTO {seen} (setting) VALUES (current_setting('synchronous_commit'));
                RETURN NULL; END $$;
            CREATE TRIGGER {seen} AFTER INSERT OR UPDATE ON {table}
                FOR EACH ROW EXECUTE FUNCTION {seen}()""")  # fmt: skip
    try:
        limiter = RateLimiterFactory(LIMIT, ModelStorage("postgres"), clock=clock).create("k")
        limiter.consume()
        with transaction.atomic(using="postgres"):
            limiter.consume()
        with connections["postgres"].cursor() as cursor:
            cursor.execute(f"SELECT setting FROM {seen} ORDER BY n")
            assert cursor.fetchall() == [("off",), ("on",)]
    finally:
        with connections["postgres"].cursor() as cursor:
            cursor.execute(f"DROP TRIGGER {seen} ON {table}; DROP TABLE {seen}; "
                           f"DROP FUNCTION {seen}()")  # fmt: skip


@pytest.mark.parametrize("using", DATABASES)
def test_an_id_too_long_for_the_column_is_a_config_error(using: str) -> None:
    factory = RateLimiterFactory({**LIMIT, "id": "x" * 190}, ModelStorage(using))
    limiter = factory.create("%" * 200)
    assert len(limiter.id) > MAX_ID_LENGTH
    with pytest.raises(ConfigError, match="at most 768"):
        limiter.consume()


@pytest.mark.parametrize("using", DATABASES)
async def test_async_methods_run_off_the_event_loop(using: str, clock: FrozenClock) -> None:
    storage = ModelStorage(using, clock=clock)
    limiter = RateLimiterFactory(LIMIT, storage, clock=clock).create("k")
    assert [(await limiter.aconsume()).remaining for _ in range(4)] == [2, 1, 0, 0]
    assert (await storage.afetch("api:k")).hits == (3,)
    await limiter.areset()
    assert await storage.afetch("api:k") is None
    clock.advance(3600)
    assert await storage.acleanup() == 0
    await sync_close()


async def sync_close() -> None:
    from asgiref.sync import sync_to_async

    await sync_to_async(connections.close_all)()


def test_an_unknown_alias_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"'replica'.*known: default, postgres"):
        ModelStorage("replica")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases=["postgres"])
def test_a_missing_decision_function_says_to_migrate() -> None:
    from throttle_django.postgres import statements

    with connections["postgres"].cursor() as cursor:
        cursor.execute(statements(State._meta.db_table).drop_function.as_string(None))
    try:
        with pytest.raises(ConfigError, match=r"manage\.py migrate throttle_django"):
            RateLimiterFactory(LIMIT, ModelStorage("postgres")).create("k").consume()
    finally:
        from django.core.management import call_command

        call_command("migrate", "throttle_django", database="postgres", verbosity=0)
    assert RateLimiterFactory(LIMIT, ModelStorage("postgres")).create("k").consume().accepted


@override_settings(USE_TZ=False, TIME_ZONE="America/New_York")
@pytest.mark.django_db(transaction=True)
def test_naive_datetimes_without_use_tz(clock: FrozenClock) -> None:
    storage = ModelStorage(clock=clock)
    factory = RateLimiterFactory(LIMIT, storage, clock=clock)
    factory.create("k").consume(3)
    row = State.objects.get()
    assert row.expires_at is not None
    assert row.expires_at.tzinfo is None
    assert row.expires_at == datetime(2023, 11, 13, 19, 1)
    clock.advance(59)
    assert not factory.create("k").consume().accepted
    clock.advance(1)
    assert storage.cleanup() == 1
