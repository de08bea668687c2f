"""PostgresStorage: limiter states in one PostgreSQL table, each decision one SQL call.

Every operation is written once as a sans-IO program: a generator that yields the `Query` it
needs run and receives its `Outcome`. `_drive` runs a program on a psycopg `Connection`,
`_adrive` on an `AsyncConnection`; that is all the sync and async paths do differently.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import AsyncIterator, Generator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, fields
from importlib.resources import files
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlunsplit

from throttle_core.clock import Clock, check_clock
from throttle_core.errors import ConfigError, ThrottleError, missing_extra

try:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.rows import tuple_row
    from psycopg_pool import AsyncConnectionPool, ConnectionPool
except ModuleNotFoundError as error:  # pragma: no cover - tested in a subprocess
    raise missing_extra("postgres", error) from error
from throttle_core.policies import (
    MAX_TTL_SECONDS,
    SPECS,
    STATE_VERSION,
    LimiterPolicy,
    ServerPolicy,
    ServerSide,
    StateBase,
)
from throttle_core.result import RateLimit
from throttle_core.storage.coalescing import PerLoop
from throttle_core.storage.decoding import decode_state
from throttle_core.storage.pg_batches import Batch, Decision, batch_statement
from throttle_core.storage.url import parse_storage_url, redacted

log = logging.getLogger("throttle_core.storage")

T = TypeVar("T")

DEFAULT_TABLE = "throttle_state"
POOL_TIMEOUT = 1.0
"""Seconds a call waits for a connection from a pool the storage made (psycopg's default is
30), so a database that is down fails requests within a second instead of holding them."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,47}")
_LARGEST_DOUBLE = "1.7976931348623157e308"
_SMALLEST_DOUBLE = "4.9406564584124654e-324"
_IDLE = psycopg.pq.TransactionStatus.IDLE
NOT_SET_UP = (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedFunction)


def table_identifier(table: object) -> tuple[str, ...]:
    """`"name"` or `"schema.name"` as identifier parts; each part a plain SQL name of at most
    48 characters (so the derived index and function names fit), or `ConfigError`."""
    if not isinstance(table, str) or not all(_NAME.fullmatch(p) for p in table.split(".", 1)):
        raise ConfigError(
            "table must be a name or schema.name made of letters, digits and underscores "
            f"(at most 48 each, not starting with a digit), got {table!r}"
        )
    return tuple(table.split(".", 1))


def _field_checks(name: str, kind: str) -> list[str]:
    field = f'@."{name}"'
    if kind == "str":
        return [f'{field}.type() == "string"']
    if kind == "tuple[int, ...]":
        return [
            f'{field}.type() == "array"',
            f"{field}.size() > 0",
            f'!exists({field}[*] ? (@.type() != "number" || @ < 0 || @.floor() != @))',
        ]
    checks = [
        f'{field}.type() == "number"',
        f"{field}.abs() <= {_LARGEST_DOUBLE}",
        f"({field} == 0 || {field}.abs() >= {_SMALLEST_DOUBLE})",
    ]
    return [*checks, f"{field}.floor() == {field}"] if kind == "int" else checks


def state_jsonpath(state_type: type[StateBase], ranges: Sequence[str]) -> str:
    """A jsonpath matching the stored dicts that `state_type.from_dict` accepts and a decision
    at `$now` could have written: the fields its dataclass declares, with their JSON types and
    finite doubles, within `ranges` (the policy's `server.checks`)."""
    checks = [f'@."type" == "{state_type.type}"', f'@."v" == {STATE_VERSION}']
    for field in fields(state_type):  # type: ignore[arg-type]
        checks += _field_checks(field.name, str(field.type))
    return "strict $ ? (" + " && ".join([*checks, *ranges]) + ")"


def server_side(policy: object) -> ServerSide:
    """The server side of `policy`'s class; `TypeError` for a policy without one."""
    server = getattr(type(policy), "server", None)
    state_type = getattr(type(policy), "state_type", None)
    if not isinstance(server, ServerSide) or not isinstance(state_type, type):
        raise TypeError(
            f"PostgresStorage cannot decide a {type(policy).__name__} policy: it declares no "
            "server side (server, server_args())"
        )
    return server


SERVER_POLICIES: dict[str, type[Any]] = {
    name: kind
    for name, spec in SPECS.items()
    if (kind := spec.policy_type) is not None
    and isinstance(getattr(kind, "server", None), ServerSide)
}
"""The policies whose decision functions `create_table` installs, by name."""
FRAME = (files("throttle_core.storage") / "sql" / "frame.sql").read_text("utf-8")
"""The decision function's DDL, with the policy's block, names and checks still to fill in."""


@dataclass(frozen=True, slots=True)
class Query:
    """One statement to run: text (or composed SQL), parameters, and whether results come
    back in binary (exact floats whatever the session's `extra_float_digits`)."""

    statement: sql.Composed
    params: tuple[Any, ...] = ()
    binary: bool = False
    many: sql.Composed | None = None
    """The statement's batched form (a decision: one call per element of arrays of its
    parameters), when concurrent ones may be sent together."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What running a `Query` gave: its rows (if it returns any) and its row count."""

    rows: list[tuple[Any, ...]]
    rowcount: int


Program = Generator[Query, Outcome, T]


class Statements:
    """The SQL of one table, composed once: identifiers quoted by psycopg.sql."""

    def __init__(self, table: tuple[str, ...]) -> None:
        *schema, name = table
        self.table = sql.Identifier(*table)
        index = sql.Identifier(f"{name}_expires_at_idx")
        now = sql.SQL("to_timestamp(coalesce(%s::float8, date_part('epoch', now())))")
        fmt = {"t": self.table, "now": now}
        self.fetch = sql.SQL(
            "SELECT data::text FROM {t} "
            "WHERE id = %s AND (expires_at IS NULL OR expires_at > {now})"
        ).format(**fmt)
        self.save = sql.SQL(
            "INSERT INTO {t} (id, data, expires_at) VALUES (%s, %s::jsonb, "
            "to_timestamp(coalesce(%s::float8, date_part('epoch', now())) + %s::float8)) "
            "ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at"
        ).format(**fmt)
        self.delete = sql.SQL("DELETE FROM {t} WHERE id = %s").format(**fmt)
        self.cleanup = sql.SQL(
            "DELETE FROM {t} WHERE id IN (SELECT id FROM {t} WHERE expires_at <= {now} "
            "LIMIT %s FOR UPDATE SKIP LOCKED)"
        ).format(**fmt)
        self._schema = schema
        self._name = name
        self._decide: dict[type[Any], tuple[sql.Composed, sql.Composed]] = {}
        self.create_function: sql.Composed = sql.SQL(";\n").join(
            [self._function(policy) for policy in SERVER_POLICIES.values()]
        )
        """The decision functions alone (Django's migrations install them on their table)."""
        self.drop_function: sql.Composed = sql.SQL("DROP FUNCTION IF EXISTS {f}").format(
            f=sql.SQL(", ").join(self.function_of(name) for name in SERVER_POLICIES)
        )
        self.create: sql.Composed = sql.SQL(";\n").join(
            [
                sql.SQL("SELECT pg_advisory_xact_lock(7301, hashtext({name}))").format(
                    name=sql.Literal(".".join(table))
                ),
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {t} "
                    "(id text PRIMARY KEY, data jsonb NOT NULL, expires_at timestamptz)"
                ).format(**fmt),
                sql.SQL("CREATE INDEX IF NOT EXISTS {i} ON {t} (expires_at)").format(
                    i=index, **fmt
                ),
                self.create_function,
            ]
        )
        self.drop = self.drop_function + sql.SQL("; DROP TABLE IF EXISTS {t}").format(**fmt)

    def function_of(self, policy_name: str) -> sql.Identifier:
        """The decision function of the policy named `policy_name` on this table."""
        return sql.Identifier(*self._schema, f"{self._name}_{policy_name}")

    def _function(self, policy: type[Any]) -> sql.Composed:
        server: ServerSide = policy.server
        params = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(f"p_{name}"), sql.SQL(kind))
            for name, kind in server.params
        )
        return sql.SQL(FRAME).format(
            table=self.table,
            function=self.function_of(policy.name),
            params=params,
            valid=sql.Literal(state_jsonpath(policy.state_type, server.checks)),
            decide=sql.SQL(server.sql.strip()),
            max_ttl=sql.Literal(MAX_TTL_SECONDS),
        )

    def decide(self, policy: object) -> tuple[sql.Composed, sql.Composed]:
        """The statement deciding `policy` (its function called with the shared arguments
        and the policy's `server_args()`), and its batched form (`batch_statement`)."""
        kind: type[Any] = type(policy)
        statements = self._decide.get(kind)
        if statements is None:
            server = server_side(policy)
            types = [*SHARED_PARAMS, *(t for _, t in server.params)]
            function = self.function_of(kind.name)
            casts = sql.SQL(", ").join(sql.SQL(f"%s::{t}") for t in types)
            single = sql.SQL("SELECT stored_state::text, decided_at FROM {f}({casts})").format(
                f=function, casts=casts
            )
            statements = self._decide[kind] = (single, batch_statement(function, types))
        return statements


SHARED_PARAMS = ("text", "bigint", "float8", "float8", "float8", "float8", "boolean")
"""The types of the arguments every decision function takes first (frame.sql)."""


def checked_conninfo(conninfo: str) -> str:
    """`conninfo` (a libpq "key=value" string or a postgresql:// URL) if libpq can parse it,
    else `ConfigError` saying why; a URL's password is not repeated."""
    try:
        conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as error:
        raise ConfigError(
            f"PostgreSQL conninfo {redacted(conninfo)!r:.200} is not valid: {error}"
        ) from None
    return conninfo


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
        self._source = pool_or_conninfo
        self._conninfo: str | None = None
        self._pool: ConnectionPool[Any] | None = None
        self._apool: AsyncConnectionPool[Any] | None = None
        self._owned = False
        self._guard = threading.Lock()
        self._aguard: asyncio.Lock | None = None
        self._batches = PerLoop(lambda: Batch(self._arun_rows))
        if isinstance(pool_or_conninfo, str):
            self._conninfo = checked_conninfo(pool_or_conninfo)
            self._owned = True
        elif isinstance(pool_or_conninfo, ConnectionPool):
            self._pool = pool_or_conninfo
        elif isinstance(pool_or_conninfo, AsyncConnectionPool):
            self._apool = pool_or_conninfo
        elif not isinstance(pool_or_conninfo, psycopg.Connection | psycopg.AsyncConnection):
            raise ConfigError(
                "PostgresStorage needs a psycopg_pool ConnectionPool or AsyncConnectionPool, a "
                "psycopg Connection or AsyncConnection, or a conninfo string; "
                f"got {pool_or_conninfo!r}"
            )

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
        with self._connection() as connection:
            try:
                return run_program(connection, program)
            except NOT_SET_UP as error:
                raise self._not_set_up(error) from error

    async def _adrive(self, program: Program[T]) -> T:
        """Run `program` on the event loop: each query on a connection of its own turn, and
        decisions through the loop's `Batch`, so concurrent ones share one statement."""
        if not self._can_async():
            return await asyncio.to_thread(self._drive, program)
        try:
            query = next(program)
            while True:
                if query.many is not None:
                    decision = Decision(query.statement, query.many, query.params)
                    rows = [await self._batches.get().decide(decision)]
                    outcome = Outcome(rows, 1)
                else:
                    outcome = await self._arun(query.statement, query.params, query.binary)
                query = program.send(outcome)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def _arun(
        self, statement: sql.Composed, params: tuple[Any, ...], binary: bool
    ) -> Outcome:
        async with self._aconnection() as connection:
            cursor = connection.cursor(row_factory=tuple_row)
            try:
                await cursor.execute(statement, params or None, binary=binary)
            except NOT_SET_UP as error:
                raise self._not_set_up(error) from error
            rows = await cursor.fetchall() if cursor.description is not None else []
            return Outcome(rows, cursor.rowcount)

    async def _arun_rows(self, statement: sql.Composed, params: tuple[Any, ...]) -> list[Any]:
        return (await self._arun(statement, params, True)).rows

    def _not_set_up(self, error: psycopg.Error) -> ConfigError:
        return ConfigError(
            f"the table {self.table!r} or its decision function is missing "
            f"({error.diag.message_primary}); create them with storage.create_table() "
            f"or `throttle pg-init URL --table {self.table}`"
        )

    def _can_async(self) -> bool:
        return self._conninfo is not None or isinstance(
            self._source, AsyncConnectionPool | psycopg.AsyncConnection
        )

    def _sync_pool(self) -> ConnectionPool[Any]:
        if self._pool is not None:
            return self._pool
        if self._conninfo is None:
            raise TypeError(
                f"{self!r} holds an async {type(self._source).__name__}: use the async methods "
                "(aconsume/areserve/areset on the limiter), or give it a ConnectionPool"
            )
        with self._guard:
            if self._pool is None:
                self._pool = ConnectionPool(
                    self._conninfo, kwargs={"autocommit": True}, name="throttle",
                    timeout=POOL_TIMEOUT, open=True,
                )  # fmt: skip
        return self._pool

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if isinstance(self._source, psycopg.Connection):
            with self._guard, _autocommit(self._source):
                yield self._source
            return
        with self._sync_pool().connection() as connection, _autocommit(connection):
            yield connection

    @asynccontextmanager
    async def _aconnection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if isinstance(self._source, psycopg.AsyncConnection):
            if self._aguard is None:
                self._aguard = asyncio.Lock()
            async with self._aguard, _aautocommit(self._source):
                yield self._source
            return
        if self._apool is None:
            assert self._conninfo is not None
            self._apool = AsyncConnectionPool(
                self._conninfo, kwargs={"autocommit": True}, name="throttle",
                timeout=POOL_TIMEOUT, open=False,
            )  # fmt: skip
        await self._apool.open()
        async with self._apool.connection() as connection, _aautocommit(connection):
            yield connection

    def close(self) -> None:
        """Close the synchronous pool this storage made from a conninfo string."""
        if self._owned and self._pool is not None:
            self._pool.close()

    async def aclose(self) -> None:
        """Close the pools this storage made from a conninfo string."""
        if self._owned and self._apool is not None:
            await self._apool.close()
        if self._owned and self._pool is not None:
            await asyncio.to_thread(self._pool.close)

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
    server-binding cursor whatever the connection's `cursor_factory`: results come in binary)."""
    cursor = psycopg.Cursor(connection, row_factory=tuple_row)
    try:
        query = next(program)
        while True:
            cursor.execute(query.statement, query.params or None, binary=query.binary)
            rows = cursor.fetchall() if cursor.description is not None else []
            query = program.send(Outcome(rows, cursor.rowcount))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


@contextmanager
def _autocommit(connection: psycopg.Connection[Any]) -> Iterator[None]:
    """Each statement its own transaction for the block, unless the caller has one open (then
    the storage's statements join it); the connection's own setting is restored after."""
    if connection.autocommit or connection.info.transaction_status != _IDLE:
        yield
        return
    connection.autocommit = True
    try:
        yield
    finally:
        connection.autocommit = False


@asynccontextmanager
async def _aautocommit(connection: psycopg.AsyncConnection[Any]) -> AsyncIterator[None]:
    """Async twin of `_autocommit`."""
    if connection.autocommit or connection.info.transaction_status != _IDLE:
        yield
        return
    await connection.set_autocommit(True)
    try:
        yield
    finally:
        await connection.set_autocommit(False)


CONNECT_TIMEOUT = 2
"""Seconds a connection from a URL-built storage may take to open unless the URL's
`connect_timeout` says otherwise (libpq's and psycopg's shortest; they wait forever by
default)."""


def split_url(url: str) -> tuple[str, str | None]:
    """A "postgresql://…" or "postgres://…" URL as libpq's conninfo and its `table` parameter;
    `ConfigError` for what libpq would refuse (an unknown parameter, a malformed host) and
    for a port out of range. `connect_timeout` defaults to `CONNECT_TIMEOUT`."""
    scheme, parts = parse_storage_url(url)
    if scheme not in ("postgresql", "postgres"):
        raise ConfigError(f"not a PostgreSQL URL: {url!r}; use postgresql://user@host/db")
    query = parse_qsl(parts.query, keep_blank_values=True)
    table = next((value for name, value in query if name == "table"), None)
    rest = [(n, v) for n, v in query if n != "table"]
    if not any(name == "connect_timeout" for name, _ in rest):
        rest.append(("connect_timeout", str(CONNECT_TIMEOUT)))
    conninfo = checked_conninfo(urlunsplit(parts._replace(query=urlencode(rest, quote_via=quote))))
    params = conninfo_to_dict(conninfo)
    for port in str(params.get("port") or "5432").split(","):
        if port and not (port.isdigit() and 1 <= int(port) <= 65535):
            raise ConfigError(f"PostgreSQL URL {redacted(url)!r} has a bad port {port!r}")
    return conninfo, table


def storage_from_url(url: str, **options: Any) -> PostgresStorage:
    """A `PostgresStorage` owning its pools, from "postgresql://…" or "postgres://…"; a `table`
    query parameter names the table (`options` win over it); other parameters go to libpq."""
    conninfo, table = split_url(url)
    if table is not None:
        options.setdefault("table", table)
    return PostgresStorage(conninfo, **options)


def pg_init(url: str, table: str | None = None) -> str:
    """`throttle pg-init URL [--table NAME]`: create the table, index and function."""
    conninfo, url_table = split_url(url)
    storage_table = table or url_table or DEFAULT_TABLE
    table_identifier(storage_table)
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as connection:
            PostgresStorage(connection, storage_table).create_table()
    except psycopg.Error as error:
        raise ThrottleError(f"could not set up {storage_table!r}: {error}") from error
    return f"{storage_table}: table, expires_at index and decision function ready"
