"""Why a policy name has at most 14 characters: `PostgresStorage` names each decision function
`<table>_<policy>`, accepts table names of 48 characters, and PostgreSQL keeps 63 of an
identifier. On the longest table name, every policy's function keeps its whole name and
decides."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import START
from throttle_core import FrozenClock, RateLimiterFactory
from throttle_core.policies import SPECS
from throttle_core.policies.spec import MAX_NAME
from throttle_core.storage.postgres import SERVER_POLICIES, PostgresStorage

pytestmark = pytest.mark.postgres


@pytest.fixture
def longest_table(postgres_url: str) -> Iterator[str]:
    name = f"t{uuid.uuid4().hex}".ljust(48, "x")
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"DROP TABLE IF EXISTS {name}")
        for policy in SERVER_POLICIES:
            admin.execute(f'DROP FUNCTION IF EXISTS "{name}_{policy}"')


def test_every_policy_name_fits_the_bound() -> None:
    assert max(len(name) for name in SPECS) <= MAX_NAME == 63 - 48 - 1


def test_on_the_longest_table_name_every_function_keeps_its_whole_name(
    postgres_url: str, longest_table: str
) -> None:
    clock = FrozenClock(START)
    with PostgresStorage(postgres_url, longest_table, clock=clock) as storage:
        storage.create_table()
        with psycopg.connect(postgres_url) as conn:
            installed = {
                name
                for (name,) in conn.execute(
                    "SELECT proname FROM pg_proc WHERE proname LIKE %s", (f"{longest_table}_%",)
                )
            }
        assert installed == {f"{longest_table}_{policy}" for policy in SERVER_POLICIES}
        for policy in SERVER_POLICIES:
            options = SPECS[policy].from_limit
            assert options is not None
            config = {"policy": policy, "id": "api", **options(5, 60.0)}
            factory = RateLimiterFactory(config, storage, clock=clock)
            assert factory.create(policy).consume().remaining == 4, policy
