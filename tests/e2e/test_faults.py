"""Faults under traffic: the storage server killed (SIGKILL) or frozen (SIGSTOP) mid-burst
never turns a request into a 500 — `fail_open` lets it through, `fail_open=False` answers
503 —; a `ResilientStorage` keeps answering fast on its fallback while Redis is down and is
back on Redis within a second of its return after the cooldown; a worker killed mid-burst
never makes the server admit more than the limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from tests.e2e.harness import WORKERS, Framework, Serve, kill_worker, running
from tests.e2e.load import Answer, Request, burst, client, send
from tests.redis_support import RedisServer

pytestmark = [pytest.mark.slow, pytest.mark.redis]

HIGH = "100000/day"
"""A limit no test reaches: every answer that is not a 200 comes from the fault."""
BEFORE, AFTER = 40, 48
SLOW = 0.3
"""Seconds: no request may take longer while a `ResilientStorage`'s primary is down."""
COOLDOWN = 1.0


def broken_burst(url: str, breaks: Callable[[], None]) -> tuple[list[Answer], tuple[float, float]]:
    """`BEFORE + AFTER` requests, 8 at a time; once `BEFORE` have been answered, `breaks()`
    the storage. Returns the answers and when the storage began and finished breaking."""
    broke = threading.Event()
    when: list[float] = []

    def after(done: int) -> None:
        if done == BEFORE:
            when.append(time.time())
            breaks()
            when.append(time.time())
            broke.set()

    answers = burst(
        url, [Request()] * (BEFORE + AFTER), concurrency=8, keep_alive=True, after=after
    )
    assert broke.is_set()
    return answers, (when[0], when[1])


def check_outage(answers: list[Answer], broke: tuple[float, float], fail_open: bool) -> None:
    """No 500s and no failed connections; what was sent after the storage broke was let
    through (fail open) or refused with 503 (fail closed), what was answered before it
    began to break was a 200."""
    began, broken = broke
    found = [(a.status, a.error) for a in answers]
    assert all(a.status in (200, 503) for a in answers), found
    later = [a.status for a in answers if a.sent > broken]
    assert len(later) >= AFTER - 16
    assert later == [200 if fail_open else 503] * len(later), found
    if fail_open:
        assert all(a.status == 200 for a in answers)
    assert all(a.status == 200 for a in answers if a.answered < began)


@pytest.mark.parametrize("fail_open", [True, False], ids=["fail_open", "fail_closed"])
def test_a_storage_killed_or_frozen_mid_burst_gives_no_500(
    framework: Framework, own_redis: RedisServer, fail_open: bool
) -> None:
    env = {
        "THROTTLE_STORAGE_URL": own_redis.url,
        "THROTTLE_LIMIT": HIGH,
        "THROTTLE_FAIL_OPEN": str(fail_open).lower(),
    }
    with running(framework, env) as server:
        answers, broke = broken_burst(server.url, own_redis.pause)
        check_outage(answers, broke, fail_open)
        own_redis.resume()
        with client(server.url) as http:
            answers = [send(http, Request()) for _ in range(8)]
        assert [a.status for a in answers] == [200] * 8
        assert "X-RateLimit-Remaining" in answers[-1].headers, "the storage decides again"

        answers, broke = broken_burst(server.url, own_redis.stop)
        check_outage(answers, broke, fail_open)
        logged = server.log.text().count("rate-limit storage failed;")
    assert 1 <= logged <= 2 * WORKERS, "the log is no flood: one traceback per outage per worker"


def test_a_resilient_storage_answers_fast_during_an_outage_and_returns_to_redis(
    framework: Framework, own_redis: RedisServer
) -> None:
    env = {
        "THROTTLE_STORAGE_URL": own_redis.url,
        "THROTTLE_FALLBACK_URL": "memory://",
        "THROTTLE_COOLDOWN": str(COOLDOWN),
        "THROTTLE_LIMIT": HIGH,
        "THROTTLE_TRUSTED_PROXIES": "127.0.0.1",
    }
    with running(framework, env) as server:
        answers: list[Answer] = []
        stop = threading.Event()

        def traffic(number: int) -> None:
            with client(server.url) as http:
                while not stop.is_set() and len(answers) < 20_000:
                    headers = {"X-Forwarded-For": f"198.51.100.{number}"}
                    answers.append(send(http, Request(headers=headers)))
                    time.sleep(0.005)

        threads = [threading.Thread(target=traffic, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(1.0)
            down = time.time()
            own_redis.stop()
            time.sleep(2.0)
            own_redis.restart()
            back = time.time()
            time.sleep(COOLDOWN + 1.0)
            fresh = Request(headers={"X-Forwarded-For": "203.0.113.9"})
            after = burst(server.url, [fresh] * 24, concurrency=4)
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
    assert all(a.status == 200 for a in answers), {(a.status, a.error) for a in answers}
    outage = [a for a in answers if a.answered > down and a.sent < back]
    assert len(outage) > 20
    assert all("X-RateLimit-Remaining" in a.headers for a in outage), "the fallback decides"
    slowest = max(a.seconds for a in outage)
    assert slowest < SLOW, f"a request took {slowest:.3f}s while Redis was down"
    remaining = sorted(int(a.headers["X-RateLimit-Remaining"]) for a in after)
    first = int(HIGH.split("/")[0])
    assert remaining == list(range(first - 24, first)), (
        "every worker decides on Redis again: one shared count, each value once"
    )
    workers = {body["worker"] for a in after if isinstance(body := a.json(), dict)}
    assert len(workers) >= 2, "the requests after the return reached several workers"


def test_a_worker_killed_mid_burst_never_over_admits(serve_on_redis: Serve) -> None:
    limit = 30
    with serve_on_redis({"THROTTLE_LIMIT": f"{limit}/day"}) as server:
        killed: list[int] = []

        def after(done: int) -> None:
            if done == 12:
                killed.append(kill_worker(server))

        answers = burst(server.url, [Request()] * (3 * limit), concurrency=12, after=after)
    assert killed
    statuses = [a.status for a in answers]
    assert set(statuses) <= {200, 429, None}, statuses
    admitted, lost = statuses.count(200), statuses.count(None)
    assert admitted <= limit, f"{admitted} admitted with a limit of {limit}"
    assert admitted + lost >= limit, "only requests lost with the worker took tokens unseen"
