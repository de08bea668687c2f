"""Script calls sent on redis-py's own connections the short way, and pipelined under asyncio.

A decision is one `EVALSHA`. Sent through `client.execute_command`, redis-py 8 spends more
time on it than the loopback round trip does (argument encoding, per-command observability
hooks, response callbacks); here the command is packed once by hand (`packed`) and written
on a connection taken from the client's own pool, under the client's own retry policy, so
timeouts, reconnection, TLS, Sentinel and credentials stay redis-py's.

With an asyncio client, every call made while another is in flight waits in one queue; a
single sender writes all the calls waiting at that moment in one write and reads their
replies in order (`Pipeline`). Each call is still its own `EVALSHA`, atomic on the server,
in the order the calls were made; an error reply goes to its own caller, a lost connection
to every caller whose reply had not arrived, and a caller that is cancelled takes nothing
down with it. The client's `socket_timeout` bounds the reading of a whole batch's replies
(one timer per batch instead of one per reply). Cluster clients route each key themselves
and keep `execute_command`.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Awaitable
from typing import Any

from throttle_core.redis_clients import AsyncRedis, Redis, ResponseError, redis
from throttle_core.storage.coalescing import Coalescer, Waiting, settle


def packed(head: bytes, key: str, argv: str) -> bytes:
    """`head` (a command and its leading arguments, already in RESP) with `key` and `argv`
    appended as two bulk strings."""
    k, a = key.encode(), argv.encode()
    return b"%s$%d\r\n%s\r\n$%d\r\n%s\r\n" % (head, len(k), k, len(a), a)


def command_head(*words: str | bytes, arguments: int) -> bytes:
    """The RESP head of a command of `arguments` bulk strings that starts with `words`."""
    parts = [b"*%d\r\n" % arguments]
    for word in words:
        data = word.encode() if isinstance(word, str) else word
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def is_plain(client: Any) -> bool:
    """Whether `client` is a redis-py client over a connection pool (not a cluster, not a
    single-connection client, not one whose `execute_command` a subclass replaced), so
    that its connections can carry hand-packed commands."""
    kind = AsyncRedis if isinstance(client, AsyncRedis) else Redis
    return (
        isinstance(client, kind)
        and type(client).execute_command is kind.execute_command
        and getattr(client, "connection", None) is None
        and getattr(client, "connection_pool", None) is not None
    )


class Connections:
    """Connections of one synchronous client's pool, kept checked out between calls.

    redis-py's pool makes every checkout safe by polling the socket for stray data, which
    costs as much CPU as the round trip itself; a connection here is only ever put back
    after a complete exchange (any error disconnects it and hands it back to the pool), so
    it needs no such check. One connection per thread deciding at the same moment; a
    forked child starts again from the pool (whose own fork check resets it). A call that
    fails hands every kept connection back too: a server that went away took them all with
    it, and the pool's check on the next checkout reconnects them, so a restarted server is
    not met with one stale connection after another.
    """

    def __init__(self, client: Any) -> None:
        self._pool = client.connection_pool
        self._idle: list[Any] = []
        self._pid = os.getpid()

    def send(self, command: bytes) -> Any:
        """Run one packed command and return its reply (an error reply raised, as redis-py
        raises it), under the connection's own retry policy."""
        if self._pid != os.getpid():
            self._idle, self._pid = [], os.getpid()
        try:
            connection = self._idle.pop()
        except IndexError:
            connection = self._pool.get_connection()
        try:
            reply = connection.retry.call_with_retry(
                lambda: _exchange(connection, command), lambda _: connection.disconnect()
            )
        except ResponseError:
            self._idle.append(connection)
            raise
        except BaseException:
            self._pool.release(connection)
            self.close()
            raise
        self._idle.append(connection)
        return reply

    def close(self) -> None:
        """Hand every kept connection back to the pool."""
        idle, self._idle = self._idle, []
        for connection in idle:
            self._pool.release(connection)


def _exchange(connection: Any, command: bytes) -> Any:
    connection.send_packed_command((command,))
    return connection.read_response()


class Pipeline:
    """The calls waiting on one asyncio client, on one event loop, written together on one
    connection and answered in order."""

    def __init__(self, client: Any) -> None:
        self._pool = client.connection_pool
        self._calls: Coalescer[bytes] = Coalescer(self._send)

    def send(self, command: bytes) -> Awaitable[Any]:
        """Queue `command`; the awaitable gives its reply or raises its error."""
        return self._calls.submit(command)

    async def _send(self, batch: Waiting[bytes]) -> None:
        connection: Any = None
        answered = 0

        async def replies() -> None:
            nonlocal answered
            for _, future in batch[answered:]:
                try:
                    reply = await connection.read_response(timeout=math.inf)
                except ResponseError as error:
                    settle(future, error=error)
                else:
                    settle(future, reply)
                answered += 1

        async def exchange() -> None:
            await connection.send_packed_command(b"".join(c for c, _ in batch[answered:]))
            if connection.socket_timeout is None:
                return await replies()
            try:
                return await asyncio.wait_for(replies(), connection.socket_timeout)
            except asyncio.TimeoutError:
                await connection.disconnect()
                raise redis.TimeoutError("Timeout reading from the Redis server") from None

        async def lost(_: BaseException) -> None:
            await connection.disconnect()

        try:
            connection = await self._pool.get_connection()
            await connection.retry.call_with_retry(exchange, lost)
        except BaseException as error:
            for _, future in batch[answered:]:
                settle(future, error=error)
            if not isinstance(error, Exception):
                raise
        finally:
            if connection is not None:
                await self._pool.release(connection)
