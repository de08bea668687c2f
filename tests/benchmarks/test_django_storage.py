"""The Django storage workload runs in its own process on a database it makes and drops, and
reports every contender for every policy."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from benchmarks.adapters.base import POLICIES
from benchmarks.settings import QUICK, Services
from benchmarks.workloads.django_storage import CONTENDERS, run


@pytest.mark.slow
@pytest.mark.postgres
def test_model_storage_postgres_storage_and_sqlite_are_measured_for_every_policy(
    postgres_url: str,
) -> None:
    namespace = f"b{uuid.uuid4().hex[:10]}"
    rows = run(QUICK, Services(None, False, postgres_url, namespace))
    found = {(f"{r.algorithm}/{r.backend}", r.policy) for r in rows}
    assert found == {(name, policy) for name in CONTENDERS for policy in POLICIES}
    assert all(r.metrics["decisions_per_s"] > 0 for r in rows)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        left = admin.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (f"{namespace}_django",)
        ).fetchone()
    assert left == (0,), "the workload drops the database it made"
