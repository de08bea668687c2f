"""A Redis server killed, and then frozen, under steady traffic through a `ResilientStorage`
built from its URL: nothing escapes, no decision waits long, and the primary is used again
by itself soon after it returns.

The timeline, in seconds: healthy for 0.5; killed (connections refused) for 1.5; restarted;
healthy until the circuit has closed and for 0.5 more; frozen with SIGSTOP (connections stay
open, nothing answers) for 1.5; resumed; healthy until the circuit has closed again.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.redis_support import RedisServer, redis_servers
from throttle_core import RateLimiterFactory, storage_from_url
from throttle_core.storage import ResilientStorage

pytestmark = [pytest.mark.redis, pytest.mark.slow]

COOLDOWN = 1.0
WORKERS = 4
PAUSE = 0.02
"""Seconds each worker waits between decisions: about 200 decisions per second in all."""
MAX_DECISIONS = 3000
"""Decisions per worker at most, whatever happens (the traffic is bounded)."""
OUTAGE = 1.5
SLOW = 0.75
"""The longest a decision may take during an outage (a URL-built client waits 0.5 s)."""
BACK_WITHIN = COOLDOWN + 1.0
"""The longest from the server's return to the circuit closing: the cooldown running out,
then the next decision's probe."""


@dataclass
class Log:
    """What the traffic saw: (start, seconds taken) per decision, and any escaped error."""

    decisions: list[tuple[float, float]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)

    def slowest(self, start: str, end: str) -> float:
        begin, finish = self.marks[start], self.marks[end]
        return max(taken for at, taken in self.decisions if begin <= at <= finish)

    def summary(self) -> str:
        def ms(seconds: float) -> str:
            return f"{seconds * 1000:.2f} ms"

        during = [
            taken
            for at, taken in self.decisions
            if self.marks["killed"] <= at <= self.marks["back"]
            or self.marks["frozen"] <= at <= self.marks["back again"]
        ]
        during.sort()
        waited = sum(taken > 0.1 for taken in during)
        return (
            f"{len(self.decisions)} decisions, {len(during)} during the outages "
            f"({waited} of them over 100 ms); "
            f"median {ms(during[len(during) // 2])}, "
            f"99th percentile {ms(during[int(len(during) * 0.99)])}; "
            f"slowest while killed {ms(self.slowest('killed', 'back'))}, "
            f"while frozen {ms(self.slowest('frozen', 'back again'))}; "
            f"back on the primary {ms(self.marks['back'] - self.marks['restarted'])} after "
            f"the restart, {ms(self.marks['back again'] - self.marks['resumed'])} after SIGCONT"
        )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_servers(1, tmp_path) as (one,):
        yield one


def storage_for(server: RedisServer) -> ResilientStorage:
    return ResilientStorage(
        storage_from_url(f"{server.url}?prefix=outage:{uuid.uuid4().hex}:"), cooldown=COOLDOWN
    )


def failed_over(storage: ResilientStorage) -> bool:
    return storage.failed_over


def wait_until_closed(storage: ResilientStorage, log: Log, mark: str) -> None:
    deadline = time.monotonic() + 10
    while storage.failed_over and time.monotonic() < deadline:
        time.sleep(0.005)
    log.marks[mark] = time.monotonic()


OUTAGES = (
    ("killed", RedisServer.stop, "restarted", RedisServer.restart, "back"),
    ("frozen", RedisServer.pause, "resumed", RedisServer.resume, "back again"),
)
"""Each outage: its mark, what starts it, the mark and the cure that end it, and the mark of
the circuit closing again."""


def drive_outages(server: RedisServer, storage: ResilientStorage, log: Log) -> None:
    """Kill, restart, freeze and resume the server, marking the times on `log`."""
    time.sleep(0.5)
    assert not failed_over(storage)
    for down, start, up, end, back in OUTAGES:
        log.marks[down] = time.monotonic()
        start(server)
        time.sleep(OUTAGE)
        assert failed_over(storage)
        end(server)
        log.marks[up] = time.monotonic()
        wait_until_closed(storage, log, back)
        time.sleep(0.5)


def check(log: Log, storage: ResilientStorage, server: RedisServer, key: str) -> None:
    assert log.errors == []
    assert log.slowest("killed", "back") < SLOW, log.summary()
    assert log.slowest("frozen", "back again") < SLOW, log.summary()
    assert log.marks["back"] - log.marks["restarted"] < BACK_WITHIN, log.summary()
    assert log.marks["back again"] - log.marks["resumed"] < BACK_WITHIN, log.summary()
    assert not storage.failed_over
    primary = storage.primary
    assert server.client().exists(primary.key(key)) == 1
    print(log.summary())


def test_threads_ride_out_a_killed_and_a_frozen_server(server: RedisServer) -> None:
    storage = storage_for(server)
    limiter = RateLimiterFactory("1000000/hour", storage).create("hot")
    log, done = Log(), threading.Event()

    def traffic() -> None:
        for _ in range(MAX_DECISIONS):
            if done.is_set():
                return
            started = time.monotonic()
            try:
                limiter.consume()
            except BaseException as error:
                log.errors.append(error)
            log.decisions.append((started, time.monotonic() - started))
            time.sleep(PAUSE)

    workers = [threading.Thread(target=traffic) for _ in range(WORKERS)]
    for worker in workers:
        worker.start()
    try:
        drive_outages(server, storage, log)
    finally:
        done.set()
        for worker in workers:
            worker.join(10)
        storage.close()
    check(log, storage, server, limiter.id)


async def test_tasks_ride_out_a_killed_and_a_frozen_server(server: RedisServer) -> None:
    storage = storage_for(server)
    limiter = RateLimiterFactory("1000000/hour", storage).create("hot")
    log, done = Log(), threading.Event()

    async def traffic() -> None:
        for _ in range(MAX_DECISIONS):
            if done.is_set():
                return
            started = time.monotonic()
            try:
                await limiter.aconsume()
            except BaseException as error:
                log.errors.append(error)
            log.decisions.append((started, time.monotonic() - started))
            await asyncio.sleep(PAUSE)

    workers = [asyncio.ensure_future(traffic()) for _ in range(WORKERS)]
    try:
        await asyncio.to_thread(drive_outages, server, storage, log)
    finally:
        done.set()
        await asyncio.wait_for(asyncio.gather(*workers), 10)
        await storage.aclose()
    check(log, storage, server, limiter.id)
