"""Adapter for throttled-py: one `Throttled(using=..., quota=..., store=...)` for all keys,
`throttle.limit(key).limited`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from benchmarks.adapters.base import Adapter, Algorithm, Backend, Limiter


class ThrottledPy(Adapter):
    library = "throttled-py"
    module = "throttled"
    offered = (
        Algorithm("token_bucket", "token_bucket"),
        Algorithm("fixed_window", "fixed_window"),
        Algorithm("sliding_window", "sliding_window"),
        Algorithm("gcra", "gcra"),
        Algorithm("leaking_bucket", None),
    )
    backends = ("memory", "redis")

    def make(self, algorithm: str, limit: int, period: int, backend: Backend) -> Limiter:
        import throttled

        store: Any
        prefix: str | None = None
        if backend.kind == "redis":
            store = throttled.RedisStore(server=backend.url)
            prefix = f"{backend.namespace}:throttled"
        else:
            store = throttled.MemoryStore(options={"MAX_SIZE": backend.capacity})
        quota = throttled.per_duration(timedelta(seconds=period), limit, burst=limit)
        limit_key = throttled.Throttled(
            using=algorithm, quota=quota, store=store, key_prefix=prefix
        ).limit

        def hit(key: str) -> bool:
            return not limit_key(key).limited

        if backend.kind == "redis":
            return Limiter(hit, store._backend.get_client().close)
        return Limiter(hit)
