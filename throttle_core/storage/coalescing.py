"""Calls made concurrently on one event loop, handed over together.

A storage whose server can take many calls in one exchange (Redis pipelining, one
PostgreSQL statement for many decisions) queues each call with a future; while an exchange
is on its way the next calls wait, and one sender task then hands all those waiting at that
moment to the storage's `send`, in the order they were made. A caller that is cancelled
before its call goes out is left out; one cancelled later just stops waiting. A batch whose
`send` fails gives its error to every caller it had not answered.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

C = TypeVar("C")
T = TypeVar("T")

Waiting = list[tuple[C, "asyncio.Future[Any]"]]


class Coalescer(Generic[C]):
    """The calls waiting on one event loop, sent by one task through `send`, which must
    settle every future it is given."""

    def __init__(self, send: Callable[[Waiting[C]], Awaitable[None]]) -> None:
        self._send = send
        self._waiting: Waiting[C] = []
        self._sender: asyncio.Task[None] | None = None

    def submit(self, call: C) -> asyncio.Future[Any]:
        """Queue `call`; the future gives its reply or raises its error."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting.append((call, future))
        if self._sender is None:
            self._sender = loop.create_task(self._send_all())
        return future

    async def _send_all(self) -> None:
        try:
            while self._waiting:
                waiting = [entry for entry in self._waiting if not entry[1].done()]
                self._waiting = []
                if waiting:
                    await self._hand_over(waiting)
        finally:
            self._sender = None
            for _, future in self._waiting:
                future.cancel()
            self._waiting = []

    async def _hand_over(self, waiting: Waiting[C]) -> None:
        """`send` one batch; whatever it left unsettled when it failed gets its error, so no
        caller waits forever on a batch that went wrong."""
        try:
            await self._send(waiting)
        except BaseException as error:
            for _, future in waiting:
                settle(future, error=error)
            if not isinstance(error, Exception):
                raise


def settle(
    future: asyncio.Future[Any], reply: Any = None, error: BaseException | None = None
) -> None:
    """Give a waiting caller its reply or error, unless it stopped waiting (cancelled)."""
    if future.done():
        return
    if error is None:
        future.set_result(reply)
    elif isinstance(error, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(error)


class PerLoop(Generic[T]):
    """One `T` per running event loop, made on first use there (a connection, and so
    whatever queues calls for it, belongs to the loop it was opened on)."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        found = self._by_loop.get(loop)
        if found is None:
            found = self._by_loop[loop] = self._make()
        return found
