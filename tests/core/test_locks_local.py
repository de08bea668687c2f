"""LocalLock and what every lock gets from LockBase."""

from __future__ import annotations

import asyncio
import threading

import pytest

from throttle_core import LocalLock, LockError


def test_acquire_release_and_timeout() -> None:
    lock = LocalLock(timeout=0.05)
    assert lock.acquire("k")
    assert not lock.acquire("k")
    assert lock.acquire("other")
    lock.release("k")
    lock.release("other")
    assert len(lock) == 0
    with pytest.raises(LockError, match="'k' is not held"):
        lock.release("k")


def test_with_lock_and_hold_exclude_each_other() -> None:
    lock = LocalLock()
    inside = []
    overlap = []

    def work(i: int) -> None:
        with lock.hold("k"):
            inside.append(i)
            if len(inside) > 1:
                overlap.append(i)
            inside.remove(i)
        assert lock.with_lock("k", lambda: i * 2) == i * 2

    threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlap == []
    assert len(lock) == 0


def test_with_lock_raises_when_the_lock_cannot_be_taken() -> None:
    lock = LocalLock(timeout=0.01)
    lock.acquire("k")
    with pytest.raises(LockError, match="could not acquire the lock for 'k'"):
        lock.with_lock("k", lambda: None)


async def test_async_twins_exclude_each_other() -> None:
    lock = LocalLock()
    order: list[str] = []

    async def work(name: str) -> None:
        async with lock.ahold("k"):
            order.append(f"{name}+")
            await asyncio.sleep(0.001)
            order.append(f"{name}-")

    await asyncio.gather(work("a"), work("b"), work("c"))
    assert all(order[i][0] == order[i + 1][0] for i in range(0, len(order), 2))

    async def value() -> int:
        return 7

    assert await lock.awith_lock("k", value) == 7
    assert len(lock) == 0


async def test_async_acquire_times_out() -> None:
    lock = LocalLock(timeout=0.02)
    assert await lock.aacquire("k")
    assert not await lock.aacquire("k")
    await lock.arelease("k")
    assert len(lock) == 0
