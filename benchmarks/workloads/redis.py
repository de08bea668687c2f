"""Workload 3, Redis: decisions/s on one connection for each policy, next to the floors a
limiter cannot beat on the same connection (a raw `INCR`, and a raw `EVALSHA` of a one-line
INCR script), and the commands each decision sends (counted with MONITOR)."""

from __future__ import annotations

from collections.abc import Callable

import redis

from benchmarks.adapters import ADAPTERS, Backend
from benchmarks.record import Contender, Row, contenders, fresh_key
from benchmarks.services import monitor
from benchmarks.settings import Services, Settings
from benchmarks.timing import Sample, interleaved, throughput

LIMIT = 10**9
PERIOD = 3600
FLOOR_SCRIPT = "return redis.call('INCR', KEYS[1])"


def floors(client: redis.Redis, namespace: str) -> dict[str, Callable[[str], object]]:
    """Nothing but the round trip: `INCR key`, and `EVALSHA` of a script doing only that."""
    sha = client.script_load(FLOOR_SCRIPT)
    key = f"{namespace}:floor"

    def incr(_: str) -> object:
        return client.incr(key)

    def evalsha(_: str) -> object:
        return client.evalsha(sha, 1, key)

    return {"INCR": incr, "EVALSHA": evalsha}


def run(settings: Settings, services: Services) -> list[Row]:
    assert services.redis_url is not None
    backend = Backend("redis", services.redis_url, services.namespace)
    found = contenders(ADAPTERS, backend, matched_only=True)
    keys = ["one-key"] * settings.redis_hits
    client = redis.Redis.from_url(services.redis_url)
    raw = floors(client, services.namespace)

    def floor(name: str) -> Sample:
        def run() -> float:
            throughput(raw[name], keys[:20])
            return throughput(raw[name], keys)

        return run

    plan = {
        c.label: c.sample(LIMIT, PERIOD, fresh_key(f"c{i}", len(keys)), warm=20)
        for i, c in enumerate(found)
    }
    plan |= {f"floor/{n}": floor(n) for n in raw}
    measured = interleaved(plan, settings.server_repeats)
    client.close()
    rows = []
    for name in raw:
        row = Row("redis", "floor", name, None, "redis")
        row.measured("decisions_per_s", measured[f"floor/{name}"])
        rows.append(row)
    for i, contender in enumerate(found):
        row = contender.row("redis")
        row.measured("decisions_per_s", measured[contender.label])
        if services.redis_private:
            count_commands(row, contender, f"c{i}counted", settings.counted_decisions)
        rows.append(row)
    return rows


def count_commands(row: Row, contender: Contender, key: str, decisions: int) -> None:
    """Record the commands a decision sends (`client_commands`) and runs inside scripts
    (`script_commands`), averaged over `decisions` after a warm-up on the same key; the
    note names the client commands."""
    limiter = contender.adapter.make(contender.algorithm.name, LIMIT, PERIOD, contender.backend)
    try:
        for _ in range(5):
            limiter.hit(key)
        with monitor(contender.backend.url) as log:
            for _ in range(decisions):
                limiter.hit(key)
    finally:
        limiter.close()
    row.metrics["client_commands"] = sum(log.client.values()) / decisions
    row.metrics["script_commands"] = sum(log.script.values()) / decisions
    row.note = " + ".join(
        name if count == decisions else f"{count / decisions:g}×{name}"
        for name, count in log.client.most_common()
    )
