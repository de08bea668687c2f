"""Storages: the protocols, in-memory, and (with their extras) Redis, PostgreSQL and resilient."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from throttle_core.storage.base import AtomicStorage, LimiterState, Storage
from throttle_core.storage.memory import InMemoryStorage
from throttle_core.storage.resilient import ResilientStorage
from throttle_core.storage.url import storage_from_url

if TYPE_CHECKING:
    from throttle_core.storage.postgres import PostgresStorage
    from throttle_core.storage.redis import RedisStorage

_OPTIONAL = {
    "RedisStorage": "throttle_core.storage.redis",
    "PostgresStorage": "throttle_core.storage.postgres",
}


def __getattr__(name: str) -> Any:
    """Import storages with optional dependencies only when they are asked for (the imports
    above `TYPE_CHECKING` give type checkers their real types)."""
    module = _OPTIONAL.get(name)
    if module is None:
        raise AttributeError(f"module 'throttle_core.storage' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "AtomicStorage",
    "InMemoryStorage",
    "LimiterState",
    "PostgresStorage",
    "RedisStorage",
    "ResilientStorage",
    "Storage",
    "storage_from_url",
]
