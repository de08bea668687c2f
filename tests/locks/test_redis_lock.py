"""RedisLock on the real server: tokens, exclusion between threads, tasks and processes,
owner-only release, expiry, blocking with a timeout, and the async twin."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
import time
from typing import Any

import pytest
import redis
import redis.asyncio

from throttle_core import ConfigError, LockError
from throttle_core.locks import Lock, RedisLock

pytestmark = pytest.mark.redis


class WatchedRedis(redis.Redis):
    """A client that signals each SET it sends, so a test knows a waiter has tried."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tried = threading.Event()

    def set(self, *args: Any, **kwargs: Any) -> Any:
        self.tried.set()
        return super().set(*args, **kwargs)


def wait_until_gone(client: redis.Redis, key: str) -> None:
    """Wait for Redis itself to expire `key`."""
    while client.exists(key):
        time.sleep(0.005)


def test_acquire_stores_a_fresh_token_with_the_ttl_and_release_deletes_it(
    client: redis.Redis, prefix: str
) -> None:
    lock = RedisLock(client, prefix=prefix)
    assert isinstance(lock, Lock)
    assert lock.acquire("k", ttl=5)
    token = client.get(prefix + "k")
    assert token is not None
    assert len(token) == 32
    assert 0 < client.pttl(prefix + "k") <= 5000
    assert 0 < lock.validity("k") <= 5
    lock.release("k")
    assert client.get(prefix + "k") is None
    assert lock.validity("k") == 0.0
    assert lock.acquire("k", ttl=5)
    assert client.get(prefix + "k") != token
    lock.release("k")


def test_a_held_lock_blocks_others_until_their_timeout(client: redis.Redis, prefix: str) -> None:
    holder = RedisLock(client, prefix=prefix)
    other = RedisLock(client, prefix=prefix, timeout=0.05)
    assert holder.acquire("k")
    token = client.get(prefix + "k")
    assert not other.acquire("k")
    assert not other.acquire("k", timeout=0)
    with pytest.raises(LockError, match="'k'"):
        other.with_lock("k", lambda: None)
    assert client.get(prefix + "k") == token
    holder.release("k")
    assert other.with_lock("k", lambda: "ran") == "ran"
    assert client.get(prefix + "k") is None


def test_a_blocked_acquire_gets_the_lock_when_it_is_released(
    redis_url: str, client: redis.Redis, prefix: str
) -> None:
    watched = WatchedRedis.from_url(redis_url)
    assert isinstance(watched, WatchedRedis)
    holder = RedisLock(client, prefix=prefix)
    waiter = RedisLock(watched, prefix=prefix, timeout=30)
    assert holder.acquire("k")
    got: list[bool] = []

    def wait_for_it() -> None:
        got.append(waiter.acquire("k"))
        waiter.release("k")

    thread = threading.Thread(target=wait_for_it)
    thread.start()
    assert watched.tried.wait(10)
    holder.release("k")
    thread.join()
    assert got == [True]
    watched.close()


def test_threads_sharing_one_lock_exclude_each_other(client: redis.Redis, prefix: str) -> None:
    lock = RedisLock(client, prefix=prefix)
    counter = prefix + "total"
    client.set(counter, 0)

    def work() -> None:
        for _ in range(100):
            with lock.hold("counter"):
                value = int(client.get(counter) or 0)
                client.set(counter, value + 1)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert int(client.get(counter) or 0) == 600


def increment_under_lock(url: str, prefix: str, times: int, start: Any) -> None:
    """One process: `times` read-modify-write increments of a counter, each under the lock."""
    client = redis.Redis.from_url(url)
    lock = RedisLock(client, prefix=prefix)
    counter = prefix + "total"
    start.wait()
    for _ in range(times):
        with lock.hold("counter"):
            client.set(counter, int(client.get(counter) or 0) + 1)
    client.close()


@pytest.mark.slow
def test_processes_exclude_each_other(redis_url: str, client: redis.Redis, prefix: str) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(4)
    processes = [
        context.Process(target=increment_under_lock, args=(redis_url, prefix, 150, start))
        for _ in range(4)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    assert [process.exitcode for process in processes] == [0] * 4
    assert int(client.get(prefix + "total") or 0) == 600


def test_only_the_owner_releases(client: redis.Redis, prefix: str) -> None:
    lock = RedisLock(client, prefix=prefix)
    assert lock.acquire("k")
    errors: list[Exception] = []

    def intruder() -> None:
        try:
            lock.release("k")
        except LockError as error:
            errors.append(error)

    thread = threading.Thread(target=intruder)
    thread.start()
    thread.join()
    assert len(errors) == 1
    assert "'k'" in str(errors[0])
    assert "does not hold it" in str(errors[0])
    assert client.exists(prefix + "k")
    lock.release("k")
    with pytest.raises(LockError, match="'k'"):
        lock.release("k")


def test_an_expired_lock_is_never_released_by_its_former_owner(
    client: redis.Redis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    lock = RedisLock(client, prefix=prefix)
    assert lock.acquire("k", ttl=0.05)
    wait_until_gone(client, prefix + "k")
    assert lock.validity("k") == 0.0
    taken: list[Any] = []

    def newcomer() -> None:
        assert lock.acquire("k", ttl=30)
        taken.append(client.get(prefix + "k"))

    thread = threading.Thread(target=newcomer)
    thread.start()
    thread.join()
    with caplog.at_level(logging.WARNING, logger="throttle_core.locks"):
        lock.release("k")
    assert "'k'" in caplog.text
    assert "expired before it was released" in caplog.text
    assert client.get(prefix + "k") == taken[0]


def test_raise_on_lost_turns_an_expired_release_into_a_lock_error(
    client: redis.Redis, prefix: str
) -> None:
    lock = RedisLock(client, prefix=prefix, raise_on_lost=True)
    assert lock.acquire("k", ttl=0.05)
    wait_until_gone(client, prefix + "k")
    other = RedisLock(client, prefix=prefix)
    assert other.acquire("k", ttl=30)
    token = client.get(prefix + "k")
    with pytest.raises(LockError, match=r"RedisLock for 'k' .*expired before it was released"):
        lock.release("k")
    assert client.get(prefix + "k") == token
    other.release("k")


def test_sync_methods_refuse_an_asyncio_client_naming_the_twin(
    aclient: redis.asyncio.Redis,
) -> None:
    lock = RedisLock(aclient)
    with pytest.raises(TypeError, match=r"await RedisLock\.aacquire"):
        lock.acquire("k")
    with pytest.raises(TypeError, match=r"await RedisLock\.arelease"):
        lock.release("k")


async def test_async_twin_holds_and_releases(
    aclient: redis.asyncio.Redis, client: redis.Redis, prefix: str
) -> None:
    lock = RedisLock(aclient, prefix=prefix, timeout=0.05)
    async with lock.ahold("k", ttl=5):
        assert client.exists(prefix + "k")
        assert not await RedisLock(aclient, prefix=prefix, timeout=0).aacquire("k")
    assert not client.exists(prefix + "k")

    async def inside() -> str:
        assert client.exists(prefix + "k")
        return "ran"

    assert await lock.awith_lock("k", inside) == "ran"


async def test_tasks_exclude_each_other_and_own_their_tokens(
    aclient: redis.asyncio.Redis, client: redis.Redis, prefix: str
) -> None:
    lock = RedisLock(aclient, prefix=prefix)
    counter = prefix + "total"

    async def work() -> None:
        for _ in range(20):
            async with lock.ahold("counter"):
                value = int(await aclient.get(counter) or 0)
                await asyncio.sleep(0)
                await aclient.set(counter, value + 1)

    await asyncio.gather(*(work() for _ in range(10)))
    assert int(client.get(counter) or 0) == 200

    acquired = asyncio.Event()

    async def intruder() -> None:
        await acquired.wait()
        await lock.arelease("k")

    sibling = asyncio.create_task(intruder())
    assert await lock.aacquire("k")
    acquired.set()
    with pytest.raises(LockError, match="does not hold it"):
        await sibling
    assert client.exists(prefix + "k")
    await asyncio.wait_for(lock.arelease("k"), 10)
    assert not client.exists(prefix + "k")


class StallingRedis(redis.asyncio.Redis):
    """An asyncio client whose SET lands on the server and then never returns, as a request
    cancelled mid-acquire would see it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.landed = asyncio.Event()

    async def set(self, *args: Any, **kwargs: Any) -> Any:
        await super().set(*args, **kwargs)
        self.landed.set()
        await asyncio.Event().wait()


async def test_a_cancelled_acquire_frees_what_it_claimed(
    redis_url: str, client: redis.Redis, prefix: str
) -> None:
    stalling = StallingRedis.from_url(redis_url)
    assert isinstance(stalling, StallingRedis)
    acquiring = asyncio.create_task(RedisLock(stalling, prefix=prefix).aacquire("k"))
    await stalling.landed.wait()
    assert client.exists(prefix + "k")
    acquiring.cancel()
    with pytest.raises(asyncio.CancelledError):
        await acquiring
    assert not client.exists(prefix + "k")
    await stalling.aclose()


async def test_async_methods_run_a_sync_client_off_the_event_loop(
    client: redis.Redis, prefix: str
) -> None:
    lock = RedisLock(client, prefix=prefix)
    async with lock.ahold("k"):
        assert client.exists(prefix + "k")
    assert not client.exists(prefix + "k")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda c: RedisLock(object()), "needs a redis-py client"),
        (lambda c: RedisLock(c, prefix=b"lock:"), "prefix must be a string"),  # type: ignore[arg-type]
        (lambda c: RedisLock(c, timeout=-1), "timeout must be a number of seconds ≥ 0"),
        (lambda c: RedisLock(c, timeout=True), "timeout must be a number"),
        (lambda c: RedisLock(c, timeout=float("inf")), "timeout must be at most a day"),
    ],
)
def test_bad_configuration_is_named(client: redis.Redis, make: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make(client)


@pytest.mark.parametrize(
    ("ttl", "message"),
    [(0, "ttl must be longer than"), (-1, "ttl must be a number"), ("10", "ttl must be")],
)
def test_a_bad_ttl_is_named(client: redis.Redis, prefix: str, ttl: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RedisLock(client, prefix=prefix).acquire("k", ttl)
    assert not client.exists(prefix + "k")
