"""4 processes × 2 threads hammering one brand-new key through PostgresStorage, every policy:
exactly the limit passes, with no error and no deadlock (a worker error fails the test)."""

from __future__ import annotations

import uuid

import pytest

from tests.core.storage.contention import CONFIGS, LIMIT, admitted_under_contention
from throttle_core.storage.postgres import PostgresStorage

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_every_policy_admits_exactly_the_limit_under_contention(postgres_url: str) -> None:
    table = f"contention_{uuid.uuid4().hex[:12]}"
    with PostgresStorage(postgres_url, table) as storage:
        storage.create_table()
        try:
            assert admitted_under_contention(postgres_url, table=table) == dict.fromkeys(
                CONFIGS, LIMIT
            )
        finally:
            storage.drop_table()
