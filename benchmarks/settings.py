"""How much each workload does (full runs and `--quick` smoke runs), and where the servers are."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Counts per workload. Full runs are sized to finish `make bench` in a few minutes on
    two cores; the server workloads take more, shorter rounds, because a server competing
    for the same two cores makes their samples the noisiest, and the framework apps with
    their limits on Redis answer fewer requests per sample, each waiting on the server."""

    repeats: int = 7
    one_key_hits: int = 30_000
    many_keys: int = 100_000
    many_keys_repeats: int = 3
    server_repeats: int = 11
    redis_hits: int = 1_200
    counted_decisions: int = 100
    postgres_hits: int = 200
    processes: int = 4
    exact_limit: int = 100
    exact_attempts: int = 100
    asgi_requests: int = 8_000
    asgi_redis_requests: int = 1_500
    served_rounds: int = 5
    served_seconds: float = 2.0
    served_connections: int = 16
    served_workers: int = 1
    served_warm_up: int = 500


QUICK = Settings(
    repeats=1,
    one_key_hits=200,
    many_keys=500,
    many_keys_repeats=1,
    server_repeats=1,
    redis_hits=50,
    counted_decisions=5,
    postgres_hits=10,
    processes=2,
    exact_limit=5,
    exact_attempts=5,
    asgi_requests=50,
    asgi_redis_requests=50,
    served_rounds=1,
    served_seconds=0.3,
    served_warm_up=20,
)


@dataclass(frozen=True)
class Services:
    """Server URLs (None: that workload is skipped). `redis_private` says the Redis server is
    ours alone, so its MONITOR counts are only our commands. `namespace` prefixes every key
    and table of the run."""

    redis_url: str | None
    redis_private: bool
    postgres_url: str | None
    namespace: str
