"""The `bench` fixture: every conformance test runs once per backend in BACKENDS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conformance.backends import BACKENDS
from tests.conformance.bench import Backend, Bench
from tests.conftest import START
from throttle_core import FrozenClock


@pytest.fixture(
    params=[pytest.param(b, id=b.name, marks=b.marks) for b in BACKENDS],
)
async def bench(request: pytest.FixtureRequest) -> AsyncIterator[Bench]:
    backend: Backend = request.param
    async with backend.open(FrozenClock(START)) as opened:
        yield opened
