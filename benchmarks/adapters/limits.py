"""Adapter for `limits` (the engine under Flask-Limiter and slowapi): a strategy over a
storage, `strategy.hit(item, key)`."""

from __future__ import annotations

import functools
from typing import Any

from benchmarks.adapters.base import Adapter, Algorithm, Backend, Limiter

STRATEGIES = {
    "fixed_window": "FixedWindowRateLimiter",
    "sliding_window_counter": "SlidingWindowCounterRateLimiter",
    "moving_window": "MovingWindowRateLimiter",
}


class Limits(Adapter):
    library = "limits"
    module = "limits"
    offered = (
        Algorithm("fixed_window", "fixed_window"),
        Algorithm("sliding_window_counter", "sliding_window"),
        Algorithm("moving_window", None),
    )
    backends = ("memory", "redis")

    def make(self, algorithm: str, limit: int, period: int, backend: Backend) -> Limiter:
        import limits
        import limits.storage
        import limits.strategies

        storage: Any
        if backend.kind == "redis":
            storage = limits.storage.RedisStorage(
                backend.url, key_prefix=f"{backend.namespace}:limits"
            )
            close = storage.storage.close
        else:
            storage = limits.storage.MemoryStorage()
            close = storage.timer.cancel
        strategy = getattr(limits.strategies, STRATEGIES[algorithm])(storage)
        item = limits.RateLimitItemPerSecond(limit, period)
        return Limiter(functools.partial(strategy.hit, item), close)
