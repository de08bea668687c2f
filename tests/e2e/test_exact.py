"""Several worker processes of a real server sharing Redis, PostgreSQL or a Redis Cluster
admit exactly `limit` requests of a concurrent burst, for every policy, and the refusals carry
the rate-limit headers and the problem+json body."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import STORAGES
from tests.e2e.harness import WORKERS, Framework, running
from tests.e2e.load import Request, burst
from tests.e2e.refusals import check_refusal, seconds_to_next

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

LIMIT = 30
BURST = 3 * LIMIT
DAY = 86_400
POLICIES = ("token_bucket", "fixed_window", "sliding_window")


@pytest.mark.parametrize("storage_url", STORAGES, indirect=True)
@pytest.mark.parametrize("policy", POLICIES)
def test_a_burst_across_the_workers_admits_exactly_the_limit(
    framework: Framework, storage_url: str, policy: str
) -> None:
    env = {
        "THROTTLE_STORAGE_URL": storage_url,
        "THROTTLE_LIMIT": f"{LIMIT}/day",
        "THROTTLE_POLICY": policy,
    }
    with running(framework, env) as server:
        assert len(server.workers()) == WORKERS
        answers = burst(server.url, [Request()] * BURST, concurrency=12)
    admitted = [a for a in answers if a.status == 200]
    refused = [a for a in answers if a.status == 429]
    assert (len(admitted), len(refused)) == (LIMIT, BURST - LIMIT), [
        (a.status, a.headers.get("X-RateLimit-Remaining")) for a in answers
    ]
    remaining = sorted(int(a.headers["X-RateLimit-Remaining"]) for a in admitted)
    assert remaining == list(range(LIMIT)), "every admitted request saw its own count"
    workers = {body["worker"] for a in admitted if isinstance(body := a.json(), dict)}
    assert len(workers) >= 2, "the burst was spread over several workers"
    name = f"{LIMIT}-per-day"
    for answer in refused:
        retry = check_refusal(answer, name, LIMIT, DAY)
        if policy == "token_bucket":
            assert retry in (DAY // LIMIT - 1, DAY // LIMIT)
        else:
            assert retry in seconds_to_next(DAY, answer)
