"""Redis clients on the test server, a key prefix private to each test, and spare servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_support import RedisServer, aclient, client, prefix, redis_servers

__all__ = ["aclient", "client", "prefix"]


@pytest.fixture
def three_servers(tmp_path: Path) -> Iterator[list[RedisServer]]:
    """Three independent redis-server processes, as Redlock wants them; stopped afterwards."""
    with redis_servers(3, tmp_path) as servers:
        yield servers
