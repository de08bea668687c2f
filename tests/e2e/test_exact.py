"""Several worker processes of a real server sharing Redis, PostgreSQL, a Redis Cluster or
(Django) the model storage on PostgreSQL admit exactly `limit` requests of a concurrent burst,
for every policy, and the refusals carry the rate-limit headers and the problem+json body.

One server per storage serves all four policies: each policy is a rule keyed by a header of
its own (`X-Token-Bucket`, …), so a request carrying only that header is decided by that
policy alone."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.e2e.conftest import STORAGES
from tests.e2e.harness import FRAMEWORKS, WORKERS, Framework, running
from tests.e2e.load import Answer, Request, burst
from tests.e2e.refusals import check_refusal, seconds_to_next
from throttle_core import parse_limits

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

LIMIT = 30
BURST = 3 * LIMIT
DAY = 86_400
POLICIES = {
    "token-bucket": ("token_bucket", "X-Token-Bucket"),
    "fixed-window": ("fixed_window", "X-Fixed-Window"),
    "sliding-window": ("sliding_window", "X-Sliding-Window"),
    "gcra": ("gcra", "X-Gcra"),
}
RATED = ("token-bucket", "gcra")
"""The policies that admit one more request every day / `LIMIT` once the burst is spent."""
CASES = [(f, storage) for f in FRAMEWORKS for storage in (*STORAGES, *f.storages)]


def policy_rules() -> str:
    """`THROTTLE_RULES`: `LIMIT` a day for each policy, keyed by that policy's header."""
    return json.dumps([
        {"limit": parse_limits(f"{LIMIT}/day", id=name, policy=policy)[0], "key": f"header:{h}"}
        for name, (policy, h) in POLICIES.items()
    ])  # fmt: skip


def check_burst(name: str, answers: list[Answer]) -> set[object]:
    """Exactly `LIMIT` admitted, each seeing its own count; every refusal complete. Returns
    the workers that admitted a request."""
    admitted = [a for a in answers if a.status == 200]
    refused = [a for a in answers if a.status == 429]
    found = [(a.status, a.headers.get("X-RateLimit-Remaining"), a.error) for a in answers]
    assert (len(admitted), len(refused)) == (LIMIT, BURST - LIMIT), (name, found)
    remaining = sorted(int(a.headers["X-RateLimit-Remaining"]) for a in admitted)
    assert remaining == list(range(LIMIT)), f"{name}: each admitted request counted once"
    for answer in refused:
        retry = check_refusal(answer, name, LIMIT, DAY)
        if name in RATED:
            assert retry in (DAY // LIMIT - 1, DAY // LIMIT)
        else:
            assert retry in seconds_to_next(DAY, answer), name
    return {body["worker"] for a in admitted if isinstance(body := a.json(), dict)}


@pytest.mark.parametrize(
    ("framework", "storage"), CASES, indirect=["storage"], ids=[f"{f.name}-{s}" for f, s in CASES]
)
def test_a_burst_across_the_workers_admits_exactly_the_limit_for_each_policy(
    framework: Framework, storage: dict[str, str]
) -> None:
    env = {**storage, "THROTTLE_LIMIT": "", "THROTTLE_RULES": policy_rules()}
    with running(framework, env) as server:
        assert len(server.workers()) == WORKERS
        workers: set[object] = set()
        for name, (_, header) in POLICIES.items():
            client = f"client-of-{name}"
            answers = burst(server.url, [Request(headers={header: client})] * BURST)
            workers |= check_burst(name, answers)
    assert len(workers) >= 2, "the bursts were spread over several workers"
    if "DJANGO_SITE_DATABASE" in storage:
        with psycopg.connect(storage["DJANGO_SITE_DATABASE"]) as database:
            ids = {row[0] for row in database.execute("SELECT id FROM throttle_django_state")}
        assert {i.rpartition(":")[2] for i in ids} >= {f"client-of-{n}" for n in POLICIES}, (
            "the counters live in the site's PostgreSQL database"
        )
