"""Redlock over three redis-server processes started for each test: quorum, validity,
freeing on failure, and servers dying mid-test (one: still granted; two: refused in time)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.redis_support import RedisServer
from throttle_core import ConfigError, LockError
from throttle_core.locks import Redlock

pytestmark = [pytest.mark.redis, pytest.mark.slow]

TIMEOUTS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
FAST = {**TIMEOUTS, "retry": Retry(NoBackoff(), 0)}
"""What Redlock wants of its clients: a dead server answers "no" at once, without retries."""
ASYNC_FAST = {**TIMEOUTS, "retry": AsyncRetry(NoBackoff(), 0)}


@pytest.fixture
def clients(three_servers: list[RedisServer]) -> Iterator[list[redis.Redis]]:
    connections = [server.client(**FAST) for server in three_servers]
    yield connections
    for connection in connections:
        connection.close()


def tokens(clients: list[redis.Redis], key: str) -> list[Any]:
    return [client.get(key) for client in clients]


def test_a_lock_is_set_on_every_server_with_one_token_and_freed_on_all(
    clients: list[redis.Redis],
) -> None:
    lock = Redlock(clients)
    assert lock.quorum == 2
    assert lock.acquire("k", ttl=10)
    held = tokens(clients, "lock:k")
    assert held[0] is not None
    assert held == [held[0]] * 3
    assert all(0 < client.pttl("lock:k") <= 10_000 for client in clients)
    lock.release("k")
    assert tokens(clients, "lock:k") == [None] * 3


def test_validity_leaves_out_the_clock_drift_allowance(clients: list[redis.Redis]) -> None:
    lock = Redlock(clients, drift_factor=0.1)
    assert lock.acquire("k", ttl=10)
    assert 0 < lock.validity("k") <= 10 - 10 * 0.1 - 0.002
    lock.release("k")
    assert lock.validity("k") == 0.0
    with pytest.raises(ValueError, match="ttl must be longer than the drift allowance"):
        Redlock(clients, drift_factor=0.4).acquire("k", ttl=0.003)


def test_a_held_lock_is_refused_to_others_and_leaves_no_trace_of_them(
    clients: list[redis.Redis],
) -> None:
    holder = Redlock(clients)
    other = Redlock(clients, timeout=0.05)
    assert holder.acquire("k")
    held = tokens(clients, "lock:k")
    assert not other.acquire("k")
    with pytest.raises(LockError, match="'k'"):
        other.with_lock("k", lambda: None)
    assert tokens(clients, "lock:k") == held
    holder.release("k")
    assert other.with_lock("k", lambda: "ran") == "ran"


def test_a_minority_holding_the_key_elsewhere_does_not_stop_the_quorum(
    clients: list[redis.Redis],
) -> None:
    clients[0].set("lock:k", "someone-else", px=10_000)
    lock = Redlock(clients, timeout=0)
    assert lock.acquire("k")
    assert clients[0].get("lock:k") == b"someone-else"
    lock.release("k")
    assert tokens(clients, "lock:k") == [b"someone-else", None, None]


def test_a_failed_attempt_frees_the_servers_it_did_win(clients: list[redis.Redis]) -> None:
    for client in clients[:2]:
        client.set("lock:k", "someone-else", px=10_000)
    assert not Redlock(clients, timeout=0.05).acquire("k")
    assert tokens(clients, "lock:k") == [b"someone-else", b"someone-else", None]


def test_one_server_down_mid_test_still_grants_with_a_quorum(
    three_servers: list[RedisServer], clients: list[redis.Redis], caplog: pytest.LogCaptureFixture
) -> None:
    lock = Redlock(clients)
    assert lock.acquire("before")
    three_servers[0].stop()
    assert lock.acquire("after")
    assert tokens(clients[1:], "lock:after")[0] is not None
    assert not Redlock(clients, timeout=0.05).acquire("after")
    with caplog.at_level(logging.WARNING, logger="throttle_core.locks"):
        lock.release("before")
        lock.release("after")
    assert "expired" not in caplog.text
    assert tokens(clients[1:], "lock:before") == [None, None]
    assert tokens(clients[1:], "lock:after") == [None, None]


def test_two_servers_down_refuses_within_the_timeout(
    three_servers: list[RedisServer], clients: list[redis.Redis], caplog: pytest.LogCaptureFixture
) -> None:
    lock = Redlock(clients, timeout=0.2)
    strict = Redlock(clients, timeout=0.2, raise_on_lost=True)
    assert lock.acquire("before")
    assert strict.acquire("strict")
    three_servers[0].stop()
    three_servers[1].stop()
    began = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="throttle_core.locks"):
        assert not lock.acquire("after")
    assert time.monotonic() - began < 0.2 + 5
    assert "2 of 3 servers failed" in caplog.text
    assert clients[2].get("lock:after") is None
    with pytest.raises(LockError, match="'after'"):
        lock.with_lock("after", lambda: None)
    with caplog.at_level(logging.WARNING, logger="throttle_core.locks"):
        lock.release("before")
    assert "Redlock for 'before'" in caplog.text
    assert "1 of 3 servers still held it" in caplog.text
    with pytest.raises(LockError, match=r"Redlock for 'strict' .*1 of 3 servers"):
        strict.release("strict")


async def test_async_twin_with_asyncio_clients_and_a_server_down(
    three_servers: list[RedisServer], clients: list[redis.Redis]
) -> None:
    aclients = [server.asyncio_client(**ASYNC_FAST) for server in three_servers]
    lock = Redlock(aclients)
    with pytest.raises(TypeError, match=r"await Redlock\.aacquire"):
        lock.acquire("k")
    async with lock.ahold("k"):
        held = tokens(clients, "lock:k")
        assert held[0] is not None
        assert held == [held[0]] * 3
        assert not await Redlock(aclients, timeout=0.05).aacquire("k")
    assert tokens(clients, "lock:k") == [None] * 3
    three_servers[2].stop()
    assert await lock.aacquire("k")
    assert tokens(clients[:2], "lock:k")[0] is not None
    await lock.arelease("k")
    three_servers[1].stop()
    assert not await lock.aacquire("k", timeout=0.05)
    for aclient in aclients:
        await aclient.aclose()


def test_bad_configuration_is_named(clients: list[redis.Redis]) -> None:
    with pytest.raises(ConfigError, match="non-empty list of Redis clients"):
        Redlock([])
    with pytest.raises(ConfigError, match="non-empty list of Redis clients"):
        Redlock(clients[0])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="the same client twice"):
        Redlock([clients[0], clients[1], clients[0]])
    with pytest.raises(ConfigError, match=r"drift_factor must be in \[0, 0.5\)"):
        Redlock(clients, drift_factor=0.5)
    with pytest.raises(ConfigError, match="drift_factor must be a number"):
        Redlock(clients, drift_factor="0.01")  # type: ignore[arg-type]
