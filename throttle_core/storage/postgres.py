"""PostgresStorage: limiter states in one PostgreSQL table, each decision one SQL call.

Every operation is written once as a sans-IO program: a generator that yields the `Query` it
needs run and receives its `Outcome`. `_drive` runs a program on a psycopg `Connection`,
`_adrive` on an `AsyncConnection`; that is all the sync and async paths do differently. The
table's SQL is in `pg_schema`, the connections in `pg_connections`, the batching of
concurrent decisions in `pg_batches`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Generator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from throttle_core.clock import Clock, check_clock
from throttle_core.errors import ConfigError, missing_extra

try:
    import psycopg
    from psycopg.rows import tuple_row

    from throttle_core.storage.pg_connections import (
        POOL_TIMEOUT,
        Connections,
        alone,
        split_url,
    )
except ModuleNotFoundError as error:  # pragma: no cover - tested in a subprocess
    raise missing_extra("postgres", error) from error
from throttle_core.policies import MAX_TTL_SECONDS, LimiterPolicy, ServerPolicy
from throttle_core.result import RateLimit
from throttle_core.storage.coalescing import PerLoop
from throttle_core.storage.decoding import decode_state
from throttle_core.storage.pg_batches import Batch, Decision
from throttle_core.storage.pg_schema import (
    SERVER_POLICIES,
    Statements,
    joining,
    table_identifier,
)

__all__ = [
    "DEFAULT_TABLE",
    "NOT_SET_UP",
    "POOL_TIMEOUT",
    "SERVER_POLICIES",
    "PostgresStorage",
    "Programs",
    "psycopg",
    "run_program",
    "split_url",
    "storage_from_url",
    "table_identifier",
]

log = logging.getLogger("throttle_core.storage")

T = TypeVar("T")

DEFAULT_TABLE = "throttle_state"
NOT_SET_UP = (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedFunction)


@dataclass(frozen=True, slots=True)
class Query:
    """One statement to run: its text as sent, parameters, and whether results come
    back in binary (exact floats whatever the session's `extra_float_digits`)."""

    statement: bytes
    params: tuple[Any, ...] = ()
    binary: bool = False
    many: bytes | None = None
    """The statement's batched form (a decision: one call per element of arrays of its
    parameters), when concurrent ones may be sent together."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What running a `Query` gave: its rows (if it returns any) and its row count."""

    rows: list[tuple[Any, ...]]
    rowcount: int


Program = Generator[Query, Outcome, T]


class Programs:
    """Every operation on one table, written once as sans-IO programs (generators yielding
    `Query`s): `PostgresStorage` runs them on psycopg connections, and Django's
    `ModelStorage` on the connections of Django's database aliases."""

    def __init__(self, table: str, *, clock: Clock | None, durable: bool) -> None:
        self.table = ".".join(table_identifier(table))
        self.sql = Statements(table_identifier(table))
        self.clock = check_clock(clock)
        if not isinstance(durable, bool):
            raise ConfigError(f"durable must be True or False, got {durable!r:.60}")
        self.durable = durable

    # The programs: every operation once, as the queries it runs and what it makes of them.

    def _now(self) -> float | None:
        return None if self.clock is None else self.clock.now()

    def _decode(
        self,
        text: str | None,
        id: str,
        policy: LimiterPolicy | None = None,
        now: float | None = None,
    ) -> Any:
        return decode_state(text, f"of {id!r} in {self.table}", policy, now)

    def _decision(
        self,
        policy: LimiterPolicy,
        id: str,
        tokens: int,
        max_wait: float | None,
        refund_at: float | None,
        now: float | None,
    ) -> Program[tuple[Any, float]]:
        single, many = self.sql.decide(policy)
        server_policy: ServerPolicy[Any] = policy  # type: ignore[assignment]
        params = (
            id, tokens, max_wait, refund_at, now, self._now(), self.durable,
            *server_policy.server_args(),
        )  # fmt: skip
        outcome = yield Query(single, params, binary=True, many=many)
        stored, decided_at = outcome.rows[0]
        return self._decode(stored, id, policy, decided_at), decided_at

    def _consume(
        self, policy: LimiterPolicy, id: str, tokens: int, max_wait: float | None, now: float | None
    ) -> Program[RateLimit]:
        state, decided_at = yield from self._decision(policy, id, tokens, max_wait, None, now)
        return policy.decide(id, state, decided_at, tokens, max_wait)[1]

    def _refund(
        self, policy: LimiterPolicy, id: str, tokens: int, at: float, now: float | None
    ) -> Program[RateLimit]:
        state, decided_at = yield from self._decision(policy, id, tokens, None, at, now)
        after: Any = policy.refund(state, decided_at, tokens, at) or state
        return policy.decide(id, after, decided_at, 0, None)[1]

    def _fetch(self, id: str) -> Program[Any]:
        outcome = yield Query(self.sql.fetch, (id, self._now()))
        return self._decode(outcome.rows[0][0], id) if outcome.rows else None

    def _save(self, state: Any) -> Program[None]:
        ttl = min(state.expiration_time, MAX_TTL_SECONDS)
        yield Query(self.sql.save, (state.id, json.dumps(state.to_dict()), self._now(), ttl))

    def _delete(self, id: str) -> Program[None]:
        yield Query(self.sql.delete, (id,))

    def _cleanup(self, batch: int) -> Program[int]:
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise ConfigError(f"batch must be a positive integer, got {batch!r}")
        deleted, now = 0, self._now()
        while True:
            outcome = yield Query(self.sql.cleanup, (now, batch))
            deleted += outcome.rowcount
            if outcome.rowcount < batch:
                return deleted

    def _create_table(self) -> Program[None]:
        yield Query(self.sql.create)


class PostgresStorage(Programs):
    """Limiter states in a PostgreSQL table, decided atomically by a PL/pgSQL function.

    `pool_or_conninfo` is a psycopg_pool `ConnectionPool` or `AsyncConnectionPool`, a psycopg
    `Connection` or `AsyncConnection` (used by one operation at a time), or a conninfo
    string, from which the storage makes and owns a pool of each kind on first use (close
    them with `close()` / `aclose()`, or use the storage as a context manager). `table` may be
    schema-qualified. Time is the database's unless the limiter passes its clock's reading;
    expiry is judged by `clock` when given (tests), the database's `now()` otherwise.
    Decisions commit without waiting for the WAL flush unless `durable=True` (a crash of
    the server may then forget the last moments of decisions, as a failover would).
    """

    def __init__(
        self,
        pool_or_conninfo: Any,
        table: str = DEFAULT_TABLE,
        *,
        clock: Clock | None = None,
        durable: bool = False,
    ) -> None:
        super().__init__(table, clock=clock, durable=durable)
        self._connections = Connections(pool_or_conninfo, repr(self))
        self._batches = PerLoop(lambda: Batch(self._arun_rows))

    def __repr__(self) -> str:
        return f"PostgresStorage(table={self.table!r})"

    # The storage interface, the atomic consume, and maintenance: each a program, run by a shell.

    def consume(
        self, policy: LimiterPolicy, id: str, tokens: int, max_wait: float | None, now: float | None
    ) -> RateLimit:
        return self._drive(self._consume(policy, id, tokens, max_wait, now))

    async def aconsume(
        self, policy: LimiterPolicy, id: str, tokens: int, max_wait: float | None, now: float | None
    ) -> RateLimit:
        return await self._adrive(self._consume(policy, id, tokens, max_wait, now))

    def refund(
        self, policy: LimiterPolicy, id: str, tokens: int, at: float, now: float | None
    ) -> RateLimit:
        return self._drive(self._refund(policy, id, tokens, at, now))

    async def arefund(
        self, policy: LimiterPolicy, id: str, tokens: int, at: float, now: float | None
    ) -> RateLimit:
        return await self._adrive(self._refund(policy, id, tokens, at, now))

    def save(self, state: Any) -> None:
        """Store `state`, expiring `state.expiration_time` seconds from now."""
        self._drive(self._save(state))

    async def asave(self, state: Any) -> None:
        await self._adrive(self._save(state))

    def fetch(self, id: str) -> Any:
        """The unexpired state stored under `id`, or None (also for undecodable data)."""
        return self._drive(self._fetch(id))

    async def afetch(self, id: str) -> Any:
        return await self._adrive(self._fetch(id))

    def delete(self, id: str) -> None:
        self._drive(self._delete(id))

    async def adelete(self, id: str) -> None:
        await self._adrive(self._delete(id))

    def cleanup(self, batch: int = 10_000) -> int:
        """Delete the expired rows, `batch` at a time (skipping rows being decided right
        now), and return how many were deleted."""
        return self._drive(self._cleanup(batch))

    async def acleanup(self, batch: int = 10_000) -> int:
        return await self._adrive(self._cleanup(batch))

    def create_table(self) -> None:
        """Create the table, its `expires_at` index and its decision function if missing
        (the function is always replaced by this version's); safe to run concurrently."""
        self._drive(self._create_table())

    async def acreate_table(self) -> None:
        await self._adrive(self._create_table())

    def drop_table(self) -> None:
        """Drop the table and its decision function (tests, uninstalling)."""
        self._drive(self._drop_table())

    async def adrop_table(self) -> None:
        await self._adrive(self._drop_table())

    def _drop_table(self) -> Program[None]:
        yield Query(self.sql.drop)

    # The I/O shells.

    def _drive(self, program: Program[T]) -> T:
        with self._connections.connection() as connection:
            try:
                return run_program(connection, program)
            except NOT_SET_UP as error:
                raise self._not_set_up(error) from error

    async def _adrive(self, program: Program[T]) -> T:
        """Run `program` on the event loop: each query on a connection of its own turn, and
        decisions through the loop's `Batch`, so concurrent ones share one statement."""
        if not self._connections.can_async():
            return await asyncio.to_thread(self._drive, program)
        try:
            query = next(program)
            while True:
                if query.many is not None:
                    decision = Decision(query.statement, query.many, query.params)
                    rows = [await self._batches.get().decide(decision)]
                    outcome = Outcome(rows, 1)
                else:
                    outcome = await self._arun(query.statement, query.params, query.binary, False)
                query = program.send(outcome)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def _arun(
        self, statement: bytes, params: tuple[Any, ...], binary: bool, decides: bool
    ) -> Outcome:
        """Run one statement (`decides`: a decision, or a batch of them) on a connection."""
        async with self._connections.aconnection() as connection:
            if decides and not alone(connection):
                params = joining(params)
            cursor = connection.cursor(row_factory=tuple_row)
            try:
                await cursor.execute(statement, params or None, binary=binary)
            except NOT_SET_UP as error:
                raise self._not_set_up(error) from error
            rows = await cursor.fetchall() if cursor.description is not None else []
            return Outcome(rows, cursor.rowcount)

    async def _arun_rows(self, statement: bytes, params: tuple[Any, ...]) -> list[Any]:
        return (await self._arun(statement, params, True, True)).rows

    def _not_set_up(self, error: psycopg.Error) -> ConfigError:
        return ConfigError(
            f"the table {self.table!r} or its decision function is missing "
            f"({error.diag.message_primary}); create them with storage.create_table() "
            f"or `throttle pg-init URL --table {self.table}`"
        )

    def close(self) -> None:
        """Close the synchronous pool this storage made from a conninfo string."""
        self._connections.close()

    async def aclose(self) -> None:
        """Close the pools this storage made from a conninfo string."""
        await self._connections.aclose()

    def __enter__(self) -> PostgresStorage:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> PostgresStorage:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def run_program(connection: psycopg.Connection[Any], program: Program[T]) -> T:
    """Run `program`'s queries on `connection`, in whatever transaction state it is in (on a
    server-binding cursor whatever the connection's `cursor_factory`: results come in binary);
    a decision joining a transaction of the caller's is sent durable (`joining`)."""
    cursor = psycopg.Cursor(connection, row_factory=tuple_row)
    try:
        query = next(program)
        while True:
            params = query.params
            if query.many is not None and not alone(connection):
                params = joining(params)
            cursor.execute(query.statement, params or None, binary=query.binary)
            rows = cursor.fetchall() if cursor.description is not None else []
            query = program.send(Outcome(rows, cursor.rowcount))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def storage_from_url(url: str, **options: Any) -> PostgresStorage:
    """A `PostgresStorage` owning its pools, from "postgresql://…" or "postgres://…"; a `table`
    query parameter names the table (`options` win over it); other parameters go to libpq."""
    conninfo, table = split_url(url)
    if table is not None:
        options.setdefault("table", table)
    return PostgresStorage(conninfo, **options)
