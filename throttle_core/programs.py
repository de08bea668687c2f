"""Sans-IO programs: code written once for sync and async callers.

A program is a generator that yields each storage or lock call it needs as an `Effect` and
receives its outcome (or has its error raised where it yielded); `run` performs the effects
in sync code and `arun` awaits them. The limiter's generic path, compound decisions and the
counter operations are written this way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, NamedTuple, TypeVar

from throttle_core.aio import call_async, call_sync

T = TypeVar("T")


class Effect(NamedTuple):
    """One I/O step of a program: `sync(*args)` in sync code, `await aio(*args)` in async."""

    sync: Callable[..., Any]
    aio: Callable[..., Awaitable[Any]]
    args: tuple[Any, ...]


Program = Generator[Effect, Any, T]


def calling(target: object, method: str, *args: Any) -> Effect:
    """The effect of calling `target.<method>(*args)` (its `a<method>` twin in async code)."""
    return Effect(call_sync, call_async, (target, method, *args))


def run(program: Program[T]) -> T:
    """Perform `program`'s effects in order, in sync code; an effect's error is raised inside
    the program, where it may be handled."""
    try:
        effect = next(program)
        while True:
            try:
                outcome = effect.sync(*effect.args)
            except Exception as error:
                effect = program.throw(error)
            else:
                effect = program.send(outcome)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def arun(program: Program[T]) -> T:
    """Async twin of `run`: each effect awaited."""
    try:
        effect = next(program)
        while True:
            try:
                outcome = await effect.aio(*effect.args)
            except Exception as error:
                effect = program.throw(error)
            else:
                effect = program.send(outcome)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
