"""Decisions made concurrently on one event loop, sent to PostgreSQL as one statement.

Every decision is one call of its policy's decision function. While a statement is on its
way, the decisions that arrive wait in one queue; the next statement then calls the
function once for each of them, in the order they arrived, over `unnest(...) WITH
ORDINALITY` (one round trip, one plan, one commit for all). The function is VOLATILE, so
each call sees the rows the calls before it wrote: decisions on one key stay exact.

A batch is one transaction: when the server (or psycopg, before sending) refuses it, nothing
of it was written, and each of its decisions is run again alone, so an error reaches only the
decision it belongs to; a lost connection fails them all (the batch may have been committed:
it is never run twice).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import psycopg
from psycopg import sql

from throttle_core.storage.coalescing import Coalescer, Waiting, settle

LOST = (psycopg.OperationalError, psycopg.InterfaceError)
"""Errors after which a statement may or may not have been committed."""

Run = Callable[[bytes, tuple[Any, ...]], Awaitable[list[tuple[Any, ...]]]]
"""Runs one statement with its parameters (binary results) and returns its rows."""


def batch_statement(function: sql.Composable, types: list[str]) -> sql.Composed:
    """One call of `function` per element of parameter arrays of `types`, in order."""
    arrays = sql.SQL(", ").join(sql.SQL(f"%s::{kind}[]") for kind in types)
    columns = [sql.Identifier(f"a{i}") for i in range(len(types))]
    return sql.SQL(
        "SELECT d.stored_state::text, d.decided_at FROM unnest({arrays}) WITH ORDINALITY "
        "AS a({columns}, n) CROSS JOIN LATERAL {function}({calls}) AS d ORDER BY a.n"
    ).format(
        arrays=arrays,
        columns=sql.SQL(", ").join(columns),
        function=function,
        calls=sql.SQL(", ").join(sql.SQL("a.") + column for column in columns),
    )


class Decision(NamedTuple):
    """One decision function call: alone, batched (`many`, taking arrays), its parameters."""

    single: bytes
    many: bytes
    params: tuple[Any, ...]


class Batch:
    """The decisions waiting on one event loop, sent together by one sender task."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self._calls: Coalescer[Decision] = Coalescer(self._send)

    def decide(self, decision: Decision) -> Awaitable[tuple[Any, ...]]:
        """Queue `decision`; the awaitable gives its function's row."""
        return self._calls.submit(decision)

    async def _send(self, waiting: Waiting[Decision]) -> None:
        groups: dict[int, Waiting[Decision]] = {}
        for entry in waiting:
            groups.setdefault(id(entry[0].many), []).append(entry)
        for group in groups.values():
            if len(group) == 1 or not await self._together(group):
                for entry in group:
                    await self._alone(*entry)

    async def _together(self, group: Waiting[Decision]) -> bool:
        """Run `group` as one statement; False when it was refused (by the server, or by
        psycopg before sending): then it wrote nothing. A lost connection (the batch may
        have been committed) fails every decision of the group, never run again."""
        params = [call.params for call, _ in group]
        columns = tuple(list(values) for values in zip(*params, strict=True))
        try:
            rows = await self._run(group[0][0].many, columns)
        except Exception as error:
            if isinstance(error, psycopg.Error) and not isinstance(error, LOST):
                return False
            for _, future in group:
                settle(future, error=error)
            return True
        for (_, future), row in zip(group, rows, strict=True):
            settle(future, row)
        return True

    async def _alone(self, decision: Decision, future: asyncio.Future[Any]) -> None:
        try:
            rows = await self._run(decision.single, decision.params)
        except BaseException as error:
            settle(future, error=error)
            if not isinstance(error, Exception):
                raise
        else:
            settle(future, rows[0])
