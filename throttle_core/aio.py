"""Calling a user's storage or lock from either world: sync code, or an event loop."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any


async def call_async(obj: object, name: str, *args: Any) -> Any:
    """Await `obj.a<name>(*args)` if it exists, else `obj.<name>` (awaited if it is a coroutine
    function, run in a worker thread otherwise) so the event loop is never blocked."""
    twin = getattr(obj, "a" + name, None)
    if twin is not None:
        return await twin(*args)
    method = getattr(obj, name)
    if inspect.iscoroutinefunction(method):
        return await method(*args)
    return await asyncio.to_thread(method, *args)


def call_sync(obj: object, name: str, *args: Any) -> Any:
    """Call `obj.<name>(*args)`, refusing clearly when it turns out to be a coroutine."""
    result = getattr(obj, name)(*args)
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if close is not None:
            close()
        raise TypeError(
            f"{type(obj).__name__}.{name}() is async; use the limiter's async methods "
            f"(aconsume, areserve, areset) with this {type(obj).__name__}"
        )
    return result
