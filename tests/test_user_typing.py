"""Users' code is type-checked against ours: `mypy --strict` on a small user module sees the
real classes (never `Any`) and refuses a storage or lock of the wrong kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.typing_support import strict_mypy

pytestmark = pytest.mark.slow

USER_CODE = """
from typing import Any
from throttle_core import LocalLock, RateLimiterFactory, storage_from_url
from throttle_core.locks import RedisLock, Redlock
from throttle_core.storage import PostgresStorage, RedisStorage, ResilientStorage

reveal_type(RedisStorage)
reveal_type(PostgresStorage)
reveal_type(ResilientStorage)
reveal_type(storage_from_url)
reveal_type(RedisLock)
reveal_type(Redlock)


class GuideStorage:
    def save(self, state: Any) -> None: ...
    def fetch(self, id: str) -> Any: ...
    def delete(self, id: str) -> None: ...


class GuideLock:
    async def acquire(self, key: str, ttl: float = 10) -> bool: return True
    async def release(self, key: str) -> None: ...


RateLimiterFactory("5/minute", GuideStorage(), GuideLock())
RateLimiterFactory("5/minute", "memory://", LocalLock())
RateLimiterFactory("5/minute", ResilientStorage("redis://127.0.0.1/0"))
RateLimiterFactory("5/minute", 42)
RateLimiterFactory("5/minute", GuideStorage(), 42)
"""


def test_mypy_sees_our_types_in_user_code(tmp_path: Path) -> None:
    out, revealed, errors = strict_mypy(tmp_path, USER_CODE)
    assert len(revealed) == 6, out
    assert not any('"Any"' in line for line in revealed), out
    for name in ("storage.redis.RedisStorage", "storage.postgres.PostgresStorage",
                 "storage.resilient.ResilientStorage", "locks.redis.RedisLock",
                 "locks.redlock.Redlock"):  # fmt: skip
        assert any(line.endswith(f'-> throttle_core.{name}"') for line in revealed), out
    lines = USER_CODE.splitlines()
    wrong = [
        lines.index(code) + 1
        for code in (
            'RateLimiterFactory("5/minute", 42)',
            'RateLimiterFactory("5/minute", GuideStorage(), 42)',
        )
    ]
    assert [int(line.split(":")[1]) for line in errors] == wrong, out
    assert 'Argument 2 to "RateLimiterFactory" has incompatible type "int"' in errors[0]
    assert 'Argument 3 to "RateLimiterFactory" has incompatible type "int"' in errors[1]
