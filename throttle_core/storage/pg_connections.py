"""The connections a PostgresStorage runs on: a pool or a connection it was given, or pools
it makes from a conninfo string (and owns); each statement runs in its own transaction unless
the caller has one open. Also the "postgresql://" URL form of a conninfo."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from throttle_core.errors import ConfigError
from throttle_core.storage.url import parse_storage_url, redacted

POOL_TIMEOUT = 1.0
"""Seconds a call waits for a connection from a pool the storage made (psycopg's default is
30), so a database that is down fails requests within a second instead of holding them."""

_IDLE = psycopg.pq.TransactionStatus.IDLE


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


class Connections:
    """Where one storage's statements run. `source` is a psycopg_pool `ConnectionPool` or
    `AsyncConnectionPool`, a psycopg `Connection` or `AsyncConnection` (used by one statement
    at a time), or a conninfo string, from which a pool of each kind is made on first use;
    `owner` names the storage in errors."""

    def __init__(self, source: Any, owner: str) -> None:
        self.source = source
        self.owner = owner
        self._conninfo: str | None = None
        self._pool: ConnectionPool[Any] | None = None
        self._apool: AsyncConnectionPool[Any] | None = None
        self._owned = False
        self._guard = threading.Lock()
        self._aguard: asyncio.Lock | None = None
        if isinstance(source, str):
            self._conninfo = checked_conninfo(source)
            self._owned = True
        elif isinstance(source, ConnectionPool):
            self._pool = source
        elif isinstance(source, AsyncConnectionPool):
            self._apool = source
        elif not isinstance(source, psycopg.Connection | psycopg.AsyncConnection):
            raise ConfigError(
                "PostgresStorage needs a psycopg_pool ConnectionPool or AsyncConnectionPool, a "
                "psycopg Connection or AsyncConnection, or a conninfo string; "
                f"got {source!r}"
            )

    def can_async(self) -> bool:
        return self._conninfo is not None or isinstance(
            self.source, AsyncConnectionPool | psycopg.AsyncConnection
        )

    def _sync_pool(self) -> ConnectionPool[Any]:
        if self._pool is not None:
            return self._pool
        if self._conninfo is None:
            raise TypeError(
                f"{self.owner} holds an async {type(self.source).__name__}: use the async methods "
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
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        if isinstance(self.source, psycopg.Connection):
            with self._guard, _autocommit(self.source):
                yield self.source
            return
        with self._sync_pool().connection() as connection, _autocommit(connection):
            yield connection

    @asynccontextmanager
    async def aconnection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if isinstance(self.source, psycopg.AsyncConnection):
            if self._aguard is None:
                self._aguard = asyncio.Lock()
            async with self._aguard, _aautocommit(self.source):
                yield self.source
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


def alone(connection: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """Whether a statement sent on `connection` now is its own transaction (autocommit, no
    transaction of the caller's open), whose commit is then the storage's to make."""
    return connection.autocommit and connection.info.transaction_status == _IDLE


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
