"""PostgresStorage against the real server: table set-up, save/fetch/delete,
expiry and cleanup, bad data, every kind of connection source, URLs, the CLI, and one
statement per decision."""

from __future__ import annotations

import asyncio
import logging
import tempfile
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from tests.conftest import START
from throttle_core import ConfigError, FrozenClock, RateLimiterFactory, storage_from_url
from throttle_core.cli import main
from throttle_core.policies import FixedWindow, FixedWindowState, TokenBucketState
from throttle_core.storage.postgres import (
    POOL_TIMEOUT,
    SERVER_POLICIES,
    PostgresStorage,
    split_url,
)

pytestmark = pytest.mark.postgres

BUCKET = {"policy": "token_bucket", "id": "api", "limit": 3,
          "rate": {"interval": "1 minute", "amount": 3}}  # fmt: skip


def window(id: str, ttl: float) -> FixedWindowState:
    """A fixed-window state that expires `ttl` seconds after START."""
    return FixedWindowState(id, ttl, START, (1,), START)


def run(url: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The rows of the last result of `statement` (several statements allowed without params)."""
    with psycopg.connect(url, autocommit=True) as connection:
        cursor = connection.execute(statement, params or None)
        while cursor.nextset():
            pass
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def table(postgres_url: str) -> Iterator[str]:
    name = f"storage_{uuid.uuid4().hex[:12]}"
    yield name
    functions = ", ".join(f"{name}_{policy}" for policy in SERVER_POLICIES)
    run(postgres_url, f"DROP TABLE IF EXISTS {name}; DROP FUNCTION IF EXISTS {functions}")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def storage(postgres_url: str, table: str, clock: FrozenClock) -> Iterator[PostgresStorage]:
    with PostgresStorage(postgres_url, table, clock=clock) as storage:
        storage.create_table()
        yield storage


@pytest.mark.parametrize(
    "name",
    ["x; DROP TABLE users", 'a"b', "a.b.c", "", "1abc", "a-b", "x" * 49, "é", ".x", "x.", None, 3],
)
def test_hostile_table_names_are_refused(postgres_url: str, name: Any) -> None:
    with pytest.raises(ConfigError, match=r"table must be a name or schema\.name"):
        PostgresStorage(postgres_url, name)


def test_a_schema_qualified_table_is_created_and_used(postgres_url: str) -> None:
    schema = f"throttle_{uuid.uuid4().hex[:8]}"
    run(postgres_url, f"CREATE SCHEMA {schema}")
    try:
        with PostgresStorage(postgres_url, f"{schema}.Limits") as storage:
            storage.create_table()
            storage.create_table()
            limiter = RateLimiterFactory(BUCKET, storage).create("k")
            assert [limiter.consume().accepted for _ in range(4)] == [True, True, True, False]
        tables = run(postgres_url, "SELECT table_name FROM information_schema.tables "
                     "WHERE table_schema = %s", (schema,))  # fmt: skip
        assert tables == [("Limits",)]
    finally:
        run(postgres_url, f"DROP SCHEMA {schema} CASCADE")


def test_create_table_is_idempotent_and_safe_from_many_connections_at_once(
    postgres_url: str, table: str
) -> None:
    errors: list[BaseException] = []

    def create() -> None:
        try:
            with psycopg.connect(postgres_url) as connection:
                PostgresStorage(connection, table).create_table()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    columns = run(postgres_url, "SELECT column_name, data_type, is_nullable FROM "
                  "information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
                  (table,))  # fmt: skip
    assert columns == [
        ("id", "text", "NO"),
        ("data", "jsonb", "NO"),
        ("expires_at", "timestamp with time zone", "YES"),
    ]
    indexes = run(postgres_url, "SELECT indexdef FROM pg_indexes WHERE tablename = %s", (table,))
    assert any("(expires_at)" in definition for (definition,) in indexes)


def test_save_fetch_delete_and_expiry_by_the_storage_clock(
    storage: PostgresStorage, clock: FrozenClock
) -> None:
    state = TokenBucketState("api:k", 10, 0.5, 4.0, START)
    assert state.expiration_time == 12
    storage.save(state)
    assert storage.fetch("api:k") == state
    clock.advance(11.999)
    assert storage.fetch("api:k") == state
    clock.advance(0.001)
    assert storage.fetch("api:k") is None
    storage.save(state)
    storage.delete("api:k")
    clock.set(START)
    assert storage.fetch("api:k") is None


def test_cleanup_removes_only_expired_rows(
    storage: PostgresStorage, clock: FrozenClock, postgres_url: str, table: str
) -> None:
    for n, ttl in enumerate([5, 50, 50, 50, 500]):
        storage.save(window(f"w{n}", ttl))
    assert storage.cleanup() == 0
    clock.advance(60)
    assert storage.cleanup(batch=2) == 4
    assert run(postgres_url, f"SELECT id FROM {table}") == [("w4",)]
    assert storage.fetch("w4") == window("w4", 500)
    clock.advance(1000)
    assert storage.cleanup() == 1
    with pytest.raises(ConfigError, match="batch must be a positive integer"):
        storage.cleanup(batch=0)


async def test_acleanup_and_async_save_fetch(storage: PostgresStorage, clock: FrozenClock) -> None:
    await storage.asave(window("a", 5))
    await storage.asave(window("b", 500))
    assert await storage.afetch("a") == window("a", 5)
    clock.advance(6)
    assert await storage.acleanup() == 1
    assert await storage.afetch("a") is None
    await storage.adelete("b")
    assert await storage.afetch("b") is None


def test_undecodable_rows_are_absent_and_logged(
    storage: PostgresStorage, postgres_url: str, table: str, caplog: pytest.LogCaptureFixture
) -> None:
    run(postgres_url, f"INSERT INTO {table} VALUES ('api:k', '{{\"type\": \"x\"}}', 'infinity')")
    with caplog.at_level(logging.WARNING, "throttle_core.storage"):
        assert storage.fetch("api:k") is None
        limiter = RateLimiterFactory(BUCKET, storage).create("k")
        assert limiter.consume(3).remaining == 0
    assert len(caplog.records) == 2
    assert "api:k" in caplog.records[0].getMessage()
    assert not limiter.consume().accepted


def test_a_missing_table_says_how_to_create_it(postgres_url: str, table: str) -> None:
    with PostgresStorage(postgres_url, table) as storage:
        limiter = RateLimiterFactory(BUCKET, storage).create("k")
        with pytest.raises(ConfigError, match=f"throttle pg-init URL --table {table}"):
            limiter.consume()
        with pytest.raises(ConfigError, match="create_table"):
            storage.fetch("x")


def consume_all(storage: Any, n: int = 4) -> list[bool]:
    limiter = RateLimiterFactory(BUCKET, storage).create(uuid.uuid4().hex)
    return [limiter.consume().accepted for _ in range(n)]


async def aconsume_all(storage: Any, n: int = 4) -> list[bool]:
    limiter = RateLimiterFactory(BUCKET, storage).create(uuid.uuid4().hex)
    return [(await limiter.aconsume()).accepted for _ in range(n)]


EXPECTED = [True, True, True, False]


def test_a_users_pool_keeps_its_transaction_mode(
    postgres_url: str, storage: PostgresStorage
) -> None:
    with ConnectionPool(postgres_url, min_size=1, max_size=1) as pool:
        pooled = PostgresStorage(pool, storage.table)
        assert consume_all(pooled) == EXPECTED
        assert asyncio.run(aconsume_all(pooled)) == EXPECTED
        with pool.connection() as connection:
            assert connection.autocommit is False


async def test_an_async_pool_and_its_sync_misuse(
    postgres_url: str, storage: PostgresStorage
) -> None:
    async with AsyncConnectionPool(postgres_url, min_size=1, max_size=2) as pool:
        pooled = PostgresStorage(pool, storage.table)
        assert await aconsume_all(pooled) == EXPECTED
        with pytest.raises(TypeError, match="use the async methods"):
            pooled.fetch("x")


async def test_one_async_connection_serves_concurrent_tasks(
    postgres_url: str, storage: PostgresStorage
) -> None:
    connection = await psycopg.AsyncConnection.connect(postgres_url)
    async with connection:
        shared = PostgresStorage(connection, storage.table)
        limiter = RateLimiterFactory(BUCKET, shared).create("k")
        results = await asyncio.gather(*(limiter.aconsume() for _ in range(10)))
        assert sum(result.accepted for result in results) == 3
        assert connection.autocommit is False


def test_one_connection_serves_threads_and_joins_an_open_transaction(
    postgres_url: str, storage: PostgresStorage
) -> None:
    with psycopg.connect(postgres_url) as connection:
        shared = PostgresStorage(connection, storage.table)
        limiter = RateLimiterFactory(BUCKET, shared).create("k")
        results: list[bool] = []
        threads = [
            threading.Thread(target=lambda: results.append(limiter.consume().accepted))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False] * 5 + [True] * 3
        assert connection.autocommit is False
        connection.execute("SELECT 1")
        shared.save(window("joined", 50))
        assert shared.fetch("joined") == window("joined", 50)
        connection.rollback()
        assert shared.fetch("joined") is None


def test_a_conninfo_string_gives_owned_pools_for_both_worlds(postgres_url: str, table: str) -> None:
    storage = PostgresStorage(postgres_url, table)
    storage.create_table()
    assert consume_all(storage) == EXPECTED
    assert storage._connections._pool is not None
    assert storage._connections._pool.timeout == POOL_TIMEOUT

    async def both() -> list[bool]:
        async with storage:
            return await aconsume_all(storage)

    assert asyncio.run(both()) == EXPECTED
    assert storage._connections._pool is not None
    assert storage._connections._pool.closed


def test_anything_else_is_refused() -> None:
    with pytest.raises(ConfigError, match="psycopg_pool ConnectionPool"):
        PostgresStorage(object())


def test_storage_from_url_keeps_libpq_parameters_and_takes_the_table(
    postgres_url: str, table: str
) -> None:
    name = f"throttle-{uuid.uuid4().hex[:8]}"
    for scheme in ("postgresql", "postgres"):
        url = postgres_url.replace("postgresql", scheme, 1)
        storage = storage_from_url(f"{url}?application_name={name}&table={table}")
        assert isinstance(storage, PostgresStorage)
        assert storage.table == table
        with storage:
            storage.create_table()
            assert consume_all(storage) == EXPECTED
            sessions = run(postgres_url, "SELECT count(*) FROM pg_stat_activity "
                           "WHERE application_name = %s", (name,))  # fmt: skip
            assert sessions[0][0] >= 1
    factory = RateLimiterFactory(BUCKET, f"{postgres_url}?table={table}")
    assert factory.create("u").consume().accepted
    assert isinstance(factory.storage, PostgresStorage)
    factory.storage.close()
    with pytest.raises(ConfigError, match="not a PostgreSQL URL"):
        split_url("mysql://host/db")


def test_cli_pg_init(postgres_url: str, table: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pg-init", postgres_url, "--table", table]) == 0
    assert main(["pg-init", f"{postgres_url}?table={table}"]) == 0
    assert (
        f"{table}: table, expires_at index and decision function ready" in capsys.readouterr().out
    )
    with PostgresStorage(postgres_url, table) as storage:
        assert consume_all(storage) == EXPECTED
    with pytest.raises(SystemExit) as usage_error:
        main(["pg-init", postgres_url, "--table", "no good"])
    assert usage_error.value.code == 2
    assert "table must be a name" in capsys.readouterr().err


def trace_frontend(connection: psycopg.Connection[Any], action: Any) -> list[str]:
    """The protocol messages the client sent while `action()` ran (libpq's trace)."""
    with tempfile.TemporaryFile("w+") as trace:
        connection.pgconn.trace(trace.fileno())
        try:
            action()
        finally:
            connection.pgconn.untrace()
        trace.seek(0)
        return [line.split("\t")[3].strip() for line in trace if line.split("\t")[1] == "F"]


@pytest.mark.parametrize("config", [
    BUCKET,
    {"policy": "fixed_window", "id": "fw", "limit": 3, "interval": 60},
    {"policy": "sliding_window", "id": "sw", "limit": 3, "interval": 60},
], ids=lambda c: c["policy"])  # fmt: skip
def test_one_statement_and_one_round_trip_per_decision(
    postgres_url: str, storage: PostgresStorage, config: dict[str, Any]
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        limiter = RateLimiterFactory(config, PostgresStorage(connection, storage.table)).create()
        for _ in range(6):
            limiter.consume()
        sent = trace_frontend(connection, lambda: [limiter.consume() for _ in range(5)])
    assert sent.count("Execute") == 5
    assert sent.count("Sync") == 5
    assert "Query" not in sent


def test_decisions_commit_asynchronously_only_in_their_own_transaction(
    postgres_url: str, storage: PostgresStorage
) -> None:
    call = (f"SELECT 1 FROM {storage.table}_fixed_window('k', 1, 0, NULL, NULL, NULL, "
            "{durable}, 5, 60, 'clock'); SHOW synchronous_commit")  # fmt: skip
    assert run(postgres_url, call.format(durable="false")) == [("off",)]
    assert run(postgres_url, call.format(durable="true")) == [("on",)]
    with psycopg.connect(postgres_url) as connection:
        connection.execute("SELECT 1")
        PostgresStorage(connection, storage.table).consume(FixedWindow(5, 60), "k", 1, 0, None)
        assert connection.execute("SHOW synchronous_commit").fetchone() == ("on",)


def test_a_decision_sent_with_parameters_commits_asynchronously_only_alone(
    postgres_url: str, storage: PostgresStorage
) -> None:
    """psycopg sends parameters by the extended query protocol, where the function cannot see
    whether it is its transaction's first command: the storage tells it. A trigger records
    the commit mode each decision's write runs under."""
    seen = f"{storage.table}_seen"
    run(postgres_url, f"""
        CREATE TABLE {seen} (n serial, setting text);
        CREATE FUNCTION {seen}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
            INSERT INTO {seen} (setting) VALUES (current_setting('synchronous_commit'));
            RETURN NULL; END $$;
        CREATE TRIGGER {seen} AFTER INSERT OR UPDATE ON {storage.table}
            FOR EACH ROW EXECUTE FUNCTION {seen}()""")  # fmt: skip
    policy = FixedWindow(5, 60)
    try:
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            PostgresStorage(connection, storage.table).consume(policy, "k", 1, 0, None)
            PostgresStorage(connection, storage.table, durable=True).consume(
                policy, "k", 1, 0, None
            )
        with psycopg.connect(postgres_url) as connection:
            connection.execute("SELECT 1")
            PostgresStorage(connection, storage.table).consume(policy, "k", 1, 0, None)

        async def on_async_connections() -> None:
            async with await psycopg.AsyncConnection.connect(postgres_url) as connection:
                await PostgresStorage(connection, storage.table).aconsume(policy, "k", 1, 0, None)
            async with await psycopg.AsyncConnection.connect(postgres_url) as connection:
                await connection.execute("SELECT 1")
                await PostgresStorage(connection, storage.table).aconsume(policy, "k", 1, 0, None)

        asyncio.run(on_async_connections())
        settings = run(postgres_url, f"SELECT setting FROM {seen} ORDER BY n")
        assert settings == [("off",), ("on",), ("on",), ("off",), ("on",)]
    finally:
        run(postgres_url, f"DROP TABLE {seen}; DROP TRIGGER {seen} ON {storage.table}; "
                          f"DROP FUNCTION {seen}()")  # fmt: skip
