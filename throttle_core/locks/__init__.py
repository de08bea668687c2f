"""Locks for the generic storage path: in-process, Redis, and Redlock over several servers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from throttle_core.locks.base import Lock, LockBase
from throttle_core.locks.local import LocalLock

if TYPE_CHECKING:
    from throttle_core.locks.redis import RedisLock
    from throttle_core.locks.redlock import Redlock

_OPTIONAL = {"RedisLock": "throttle_core.locks.redis", "Redlock": "throttle_core.locks.redlock"}


def __getattr__(name: str) -> Any:
    """Import the Redis locks only when they are asked for (they need the `redis` extra)."""
    module = _OPTIONAL.get(name)
    if module is None:
        raise AttributeError(f"module 'throttle_core.locks' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = ["LocalLock", "Lock", "LockBase", "RedisLock", "Redlock"]
