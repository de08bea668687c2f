"""End to end: the example app under uvicorn with two workers sharing Redis, hit by a burst of
real HTTP requests, admits exactly `limit` of them; and `make demo`'s program runs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis

from example_projects.asgi_app import demo
from example_projects.asgi_app.server import serve
from tests.redis_support import delete_keys

pytestmark = pytest.mark.slow

LIMIT = 20
BURST = 60


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    prefix = f"throttle-e2e-{uuid.uuid4().hex[:8]}:"
    yield prefix
    delete_keys(redis.Redis.from_url(redis_url), prefix)


def test_two_workers_sharing_redis_admit_exactly_the_limit(
    redis_url: str, redis_prefix: str
) -> None:
    env = {
        "THROTTLE_STORAGE_URL": f"{redis_url}?prefix={redis_prefix}",
        "THROTTLE_LIMIT": f"{LIMIT}/day",
    }
    with serve("example_projects.asgi_app.app:app", workers=2, env=env) as url:
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=url, limits=limits) as client:
            workers = set()
            for _ in range(500):
                workers.add(client.get("/health").json()["worker"])
                if len(workers) == 2:
                    break
            responses = [client.get("/") for _ in range(BURST)]
    assert len(workers) == 2
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == BURST - LIMIT
    assert statuses[:LIMIT] == [200] * LIMIT
    assert responses[LIMIT - 1].headers["X-RateLimit-Remaining"] == "0"
    assert responses[-1].json()["violated-policies"] == [f"{LIMIT}-per-day"]


def test_the_demo_prints_a_burst_ending_in_429s(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main() == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split()[1] for line in lines if line[:1].isdigit()]
    assert rows == ["200"] * 5 + ["429"] * 3
    assert "server stopped." in lines
