"""Conformance backends for Django's `ModelStorage`: SQLite (the Python policy on a locked
row) and PostgreSQL (the decision function), each through the sync and the async API.

Each test runs in a transactional Django test database (flushed afterwards), so the async
API's database thread sees the same rows as the test; the sync API is called from the
scenario's event loop, which Django allows only when told to. Connections opened in the
scenario's context are closed with it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from tests.conformance.bench import Backend, Bench, Opener
from throttle_core import FrozenClock


@contextmanager
def _sync_calls_in_the_event_loop() -> Iterator[None]:
    """The scenarios are coroutines; let the sync API's ORM calls run in their loop's thread."""
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield
    finally:
        if before is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


def model_storage(using: str, is_async: bool) -> Opener:
    @asynccontextmanager
    async def open(clock: FrozenClock) -> AsyncIterator[Bench]:
        from throttle_django.storage import ModelStorage

        storage = ModelStorage(using, clock=clock)
        connections[using]  # the scenario's context then shares this context's connection
        if is_async:
            try:
                yield Bench(clock, storage, True)
            finally:
                await sync_to_async(connections.close_all)()
            return
        with _sync_calls_in_the_event_loop():
            try:
                yield Bench(clock, storage, False)
            finally:
                connections.close_all()

    return open


_SQLITE = pytest.mark.django_db(transaction=True)
_POSTGRES = pytest.mark.django_db(transaction=True, databases=["postgres"])

DJANGO_BACKENDS = [
    Backend("django-sqlite", model_storage("default", False), (_SQLITE,)),
    Backend("django-sqlite-async", model_storage("default", True), (_SQLITE,)),
    Backend("django-postgres", model_storage("postgres", False), (_POSTGRES, pytest.mark.postgres)),
    Backend(
        "django-postgres-async", model_storage("postgres", True), (_POSTGRES, pytest.mark.postgres)
    ),
]
