"""4 processes × 2 threads × 1,000 hits on one key, limit 1,000 per hour: exactly 1,000 pass."""

from __future__ import annotations

import uuid

import pytest
import redis

from tests.core.storage.contention import CONFIGS, LIMIT, admitted_under_contention
from tests.redis_support import delete_keys

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def test_every_policy_admits_exactly_the_limit_under_contention(redis_url: str) -> None:
    prefix = f"test:contention:{uuid.uuid4().hex}:"
    try:
        assert admitted_under_contention(redis_url, prefix) == dict.fromkeys(CONFIGS, LIMIT)
    finally:
        client = redis.Redis.from_url(redis_url)
        delete_keys(client, prefix)
        client.close()
