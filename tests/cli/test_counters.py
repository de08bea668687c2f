"""`throttle inspect`, `reset` and `cleanup` through the console script, against the storages
a deployment uses: memory (a fresh process holds nothing), Redis and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.cli.conftest import run_json, run_throttle
from throttle_core import FrozenClock, RateLimiterFactory, storage_from_url
from throttle_core.storage import PostgresStorage

FIXED = {"policy": "fixed_window", "id": "login", "limit": 10, "interval": "1 hour"}
LIMIT = '{"policy": "fixed_window", "limit": 10, "interval": "1 hour"}'
ADDRESS = "203.0.113.7"


def rows(text: str) -> dict[str, str]:
    """The `label  value` lines of a report (up to its first blank line)."""
    lines = text.split("\n\n", 1)[0].splitlines()
    return dict(re.split(r"\s{2,}", line, maxsplit=1) for line in lines)


def test_memory_holds_nothing_in_a_new_process() -> None:
    report = run_json("inspect", "memory://", "login", ADDRESS, "--limit", "5/minute")
    assert (report["state"], report["remaining"], report["limit"]) == (None, 5, 5)
    assert report["state_id"] == f"login:{ADDRESS}"
    done = run_throttle("reset", "memory://", "login", ADDRESS)
    assert (done.returncode, done.stdout) == (
        0, f"nothing stored under login:{ADDRESS}: the counter was already full\n"
    )  # fmt: skip


@pytest.fixture
def redis_storage_url(redis_url: str) -> Iterator[str]:
    prefix = f"test:cli:{uuid.uuid4().hex}:"
    yield f"{redis_url}?prefix={prefix}"
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()


@pytest.fixture
def postgres_storage_url(postgres_url: str) -> Iterator[str]:
    table = f"cli_{uuid.uuid4().hex[:12]}"
    done = run_throttle("pg-init", postgres_url, "--table", table)
    assert (done.returncode, done.stdout) == (
        0, f"{table}: table, expires_at index and decision function ready\n"
    )  # fmt: skip
    yield f"{postgres_url}?table={table}"
    with PostgresStorage(postgres_url, table) as storage:
        storage.drop_table()


@pytest.fixture(params=["redis", "postgres"])
def storage_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_storage_url")
    return url


def hit(url: str, config: dict[str, Any], key: str | None, times: int) -> None:
    storage = storage_from_url(url)
    try:
        limiter = RateLimiterFactory(config, storage).create(key)
        for _ in range(times):
            assert limiter.consume().accepted
    finally:
        storage.close()


def test_inspect_a_counter_in_a_shared_storage(storage_url: str) -> None:
    hit(storage_url, FIXED, ADDRESS, 3)
    report = run_json("inspect", storage_url, "login", ADDRESS, "--limit", LIMIT)
    assert (report["policy"], report["used"], report["limit"], report["remaining"]) == (
        "fixed_window", 3, 10, 7,
    )  # fmt: skip
    assert report["state"]["hits"] == [3]
    assert report["retry_after"] == 0.0
    assert 0 < report["reset_after"] <= 3600
    assert 0 < report["expires_in"] <= 3600
    text = run_throttle("inspect", storage_url, "login", ADDRESS, "--limit", "10/hour",
                        "--policy", "fixed_window").stdout  # fmt: skip
    assert rows(text)["remaining"] == "7 of 10 now"
    assert rows(text)["stored"] == "3 hits in the current 1 h window"


def test_inspect_without_the_limit_says_what_the_state_tells(storage_url: str) -> None:
    hit(storage_url, FIXED, ADDRESS, 4)
    done = run_throttle("inspect", storage_url, "login", ADDRESS)
    assert done.returncode == 0
    assert rows(done.stdout)["remaining"] == "needs the limit: a stored window does not carry it"
    assert done.stdout.endswith(
        "Give the limit to see what remains: --limit 10/minute (or the config as JSON).\n"
    )
    report = run_json("inspect", storage_url, "login", ADDRESS)
    assert (report["used"], report["remaining"], report["config"]) == (4, None, None)


def test_a_token_bucket_is_reported_in_full_without_its_limit(storage_url: str) -> None:
    bucket = {"policy": "token_bucket", "id": "api", "limit": 100, "rate": "100/day"}
    hit(storage_url, bucket, None, 40)
    report = run_json("inspect", storage_url, "api")
    assert (report["state_id"], report["limit"], report["remaining"], report["used"]) == (
        "api", 100, 60, 40,
    )  # fmt: skip


def test_reset_deletes_the_counter(storage_url: str) -> None:
    hit(storage_url, FIXED, ADDRESS, 10)
    assert run_json("inspect", storage_url, "login", ADDRESS, "--limit", LIMIT)["remaining"] == 0
    done = run_throttle("reset", storage_url, "login", ADDRESS)
    assert (done.returncode, done.stdout) == (
        0, f"reset login:{ADDRESS}: its state is deleted, the counter is full again\n"
    )  # fmt: skip
    after = run_json("inspect", storage_url, "login", ADDRESS, "--limit", LIMIT)
    assert (after["state"], after["remaining"]) == (None, 10)
    assert run_json("reset", storage_url, "login", ADDRESS) == {
        "state_id": f"login:{ADDRESS}", "deleted": False,
    }  # fmt: skip


def test_cleanup_deletes_expired_rows_and_says_how_many(postgres_storage_url: str) -> None:
    past = FrozenClock(1_000_000.0)
    storage = storage_from_url(postgres_storage_url, clock=past)
    try:
        factory = RateLimiterFactory(FIXED, storage, clock=past)
        for key in ("a", "b", "c"):
            factory.create(key).consume()
    finally:
        storage.close()
    hit(postgres_storage_url, FIXED, "live", 1)
    table = postgres_storage_url.rpartition("=")[2]
    done = run_throttle("cleanup", postgres_storage_url)
    assert (done.returncode, done.stdout) == (0, f"deleted 3 expired rows from {table}\n")
    done = run_throttle("cleanup", postgres_storage_url)
    assert done.stdout == f"deleted 0 expired rows from {table}\n"
    assert run_json("inspect", postgres_storage_url, "login", "live")["used"] == 1


def test_a_missing_table_is_an_error_naming_pg_init(postgres_url: str) -> None:
    done = run_throttle("cleanup", f"{postgres_url}?table=cli_missing_{uuid.uuid4().hex[:8]}")
    assert done.returncode == 1
    assert done.stderr.startswith("throttle cleanup: error: the table 'cli_missing_")
    assert "throttle pg-init URL --table" in done.stderr
