"""Conformance backends for `PostgresStorage`: a psycopg_pool `ConnectionPool` and an
`AsyncConnectionPool`, both left in psycopg's default (non-autocommit) mode as users make them.

Each bench gets its own table (and decision function), dropped afterwards, so benches never
see each other's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from tests.conformance.bench import Backend, Bench, Opener
from tests.conftest import POSTGRES_URL, need_service
from throttle_core import FrozenClock
from throttle_core.storage.postgres import PostgresStorage


def postgres_storage(is_async: bool) -> Opener:
    @asynccontextmanager
    async def open(clock: FrozenClock) -> AsyncIterator[Bench]:
        url = need_service("PostgreSQL", POSTGRES_URL, 5432)
        table = f"conformance_{uuid.uuid4().hex[:12]}"
        if is_async:
            async with AsyncConnectionPool(url, min_size=1, max_size=2) as apool:
                storage = PostgresStorage(apool, table, clock=clock)
                await storage.acreate_table()
                try:
                    yield Bench(clock, storage, True)
                finally:
                    await storage.adrop_table()
            return
        with ConnectionPool(url, min_size=1, max_size=2) as pool:
            storage = PostgresStorage(pool, table, clock=clock)
            storage.create_table()
            try:
                yield Bench(clock, storage, False)
            finally:
                storage.drop_table()

    return open


POSTGRES_BACKENDS = [
    Backend("postgres", postgres_storage(False), (pytest.mark.postgres,)),
    Backend("postgres-async", postgres_storage(True), (pytest.mark.postgres,)),
]
