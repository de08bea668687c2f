"""Adapter for PyrateLimiter 4: a `Limiter` over a bucket factory that gives every key its
own bucket (the library's documented pattern for per-key limits), `try_acquire(key)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.adapters.base import Adapter, Algorithm, Backend, BackendKind, Limiter

MEMORY = (
    Algorithm("token_bucket", "token_bucket"),
    Algorithm("fixed_window", "fixed_window"),
    Algorithm("sliding_window_log", None),
    Algorithm("gcra", "gcra"),
)
REDIS = (
    Algorithm("token_bucket", "token_bucket"),
    Algorithm("fixed_window", "fixed_window"),
    Algorithm("sliding_window_log", None),
)
POSTGRES = (
    Algorithm("fixed_window", "fixed_window"),
    Algorithm("sliding_window_log", None),
)


def per_key_factory(make_bucket: Callable[[str], Any]) -> Any:
    """A pyrate `BucketFactory` creating one bucket per key on first use; items carry the
    time of their own bucket's clock (monotonic, wall or PostgreSQL, as the bucket says)."""
    import pyrate_limiter as pl

    class PerKeyFactory(pl.BucketFactory):  # type: ignore[misc]
        def __init__(self) -> None:
            self.buckets: dict[str, Any] = {}

        def bucket(self, name: str) -> Any:
            found = self.buckets.get(name)
            if found is None:
                found = self.buckets[name] = make_bucket(name)
                self.schedule_leak(found)
            return found

        def wrap_item(self, name: str, weight: int = 1) -> Any:
            return pl.RateItem(name, self.bucket(name).now(), weight=weight)

        def get(self, item: Any) -> Any:
            return self.bucket(item.name)

    return PerKeyFactory()


class PyrateLimiter(Adapter):
    library = "pyrate-limiter"
    module = "pyrate_limiter"

    def algorithms(self, backend: BackendKind) -> tuple[Algorithm, ...]:
        return {"memory": MEMORY, "redis": REDIS, "postgres": POSTGRES}[backend]

    def make(self, algorithm: str, limit: int, period: int, backend: Backend) -> Limiter:
        import pyrate_limiter as pl

        rates = [pl.Rate(limit, period * 1000)]
        log = {"fixed_window": pl.FixedWindow(), "sliding_window_log": pl.SlidingWindowLog()}
        closers: list[Callable[[], None]] = []
        make_bucket: Callable[[str], Any]
        if backend.kind == "redis":
            import redis

            client = redis.Redis.from_url(backend.url)
            closers.append(client.close)
            prefix = f"{backend.namespace}:pyrate:"
            if algorithm == "token_bucket":

                def make_bucket(key: str) -> Any:
                    store = pl.RedisStateStore(client, prefix + key)
                    return pl.StateBucket(rates, pl.TokenBucket(), store)

            else:

                def make_bucket(key: str) -> Any:
                    return pl.RedisBucket.init(rates, client, prefix + key, log[algorithm])

        elif backend.kind == "postgres":
            from psycopg_pool import ConnectionPool

            pool = ConnectionPool(backend.url, min_size=1, max_size=1, open=True)
            closers.append(pool.close)

            def make_bucket(key: str) -> Any:
                table = f"{backend.namespace}_pyrate_{key}"
                return pl.PostgresBucket(pool, table, rates, log[algorithm])

        elif algorithm in ("token_bucket", "gcra"):
            state = pl.TokenBucket if algorithm == "token_bucket" else pl.GCRA

            def make_bucket(key: str) -> Any:
                return pl.StateBucket(rates, state())

        else:

            def make_bucket(key: str) -> Any:
                return pl.InMemoryBucket(rates, log[algorithm])

        factory = per_key_factory(make_bucket)
        closers.insert(0, factory.close)
        try_acquire = pl.Limiter(factory).try_acquire

        def hit(key: str) -> bool:
            return try_acquire(key, blocking=False)  # type: ignore[no-any-return]

        def close() -> None:
            for closer in closers:
                closer()

        return Limiter(hit, close)
