"""End to end: the Flask example app under gunicorn with several workers sharing Redis, hit
by a burst of real HTTP requests, admits exactly `limit` of them (and exactly the failed
logins `deduct_when` allows, one at a time); `make demo`'s Flask program runs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis

from example_projects.flask_app import demo
from example_projects.flask_app.server import serve
from tests.redis_support import delete_keys

pytestmark = pytest.mark.slow

LIMIT = 20
BURST = 60
WORKERS = 3


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    prefix = f"throttle-e2e-flask-{uuid.uuid4().hex[:8]}:"
    yield prefix
    delete_keys(redis.Redis.from_url(redis_url), prefix)


def test_workers_sharing_redis_admit_exactly_the_limit(redis_url: str, redis_prefix: str) -> None:
    env = {
        "THROTTLE_STORAGE_URL": f"{redis_url}?prefix={redis_prefix}",
        "THROTTLE_LIMIT": f"{LIMIT}/day",
    }
    with serve("example_projects.flask_app.app:app", workers=WORKERS, env=env) as url:
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=url, limits=limits) as client:
            workers = set()
            for _ in range(500):
                workers.add(client.get("/health").json()["worker"])
                if len(workers) == WORKERS:
                    break
            responses = [client.get("/") for _ in range(BURST)]
            logins = [client.post("/login", data={"password": "x"}) for _ in range(5)]
    assert len(workers) == WORKERS
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == BURST - LIMIT
    assert statuses[:LIMIT] == [200] * LIMIT
    assert responses[LIMIT - 1].headers["X-RateLimit-Remaining"] == "0"
    assert responses[-1].headers["Content-Type"] == "application/problem+json"
    assert responses[-1].json()["violated-policies"] == [f"{LIMIT}-per-day"]
    assert [r.status_code for r in logins] == [429] * 5


def test_failed_logins_across_workers(redis_url: str, redis_prefix: str) -> None:
    env = {"THROTTLE_STORAGE_URL": f"{redis_url}?prefix={redis_prefix}", "THROTTLE_LIMIT": ""}
    with serve("example_projects.flask_app.app:app", workers=WORKERS, env=env) as url:
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=url, limits=limits) as client:
            good = [client.post("/login", data={"password": "demo"}) for _ in range(5)]
            bad = [client.post("/login", data={"password": "guess"}) for _ in range(5)]
    assert [r.status_code for r in good] == [200] * 5
    assert [r.status_code for r in bad] == [401, 401, 401, 429, 429]


def test_the_demo_prints_a_burst_ending_in_429s(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main() == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split()[1] for line in lines if line[:1].isdigit()]
    assert rows == ["200"] * 5 + ["429"] * 3
    assert "server stopped." in lines
