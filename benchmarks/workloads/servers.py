"""Workload 7, served apps: each framework's hello world on a real server (uvicorn for ASGI,
gunicorn for WSGI) with and without limiting on Redis, measured by a load generator in a
second process on loopback (`benchmarks.loadgen`): requests/s, and p50 and p99 latency.

Every contender's server is started first and warmed up; then the rounds interleave them,
one load per contender per round. Every answer must be a 200 (the limit is never reached),
so a contender that refuses cannot look fast."""

from __future__ import annotations

import functools
import json
import statistics
import subprocess
import sys
from contextlib import ExitStack
from typing import Any

from benchmarks.frameworks import APP_ADAPTERS, PROTOCOLS
from benchmarks.record import Row
from benchmarks.settings import Services, Settings
from benchmarks.timing import interleaved
from example_projects.server import ROOT, ServerKind, serve

SERVERS: dict[str, ServerKind] = {"asgi": "uvicorn", "wsgi": "gunicorn"}
SERVED_APP = "benchmarks.frameworks.served:app"


def load(url: str, connections: int, seconds: float, requests: int) -> dict[str, Any]:
    """One run of the load generator against `url`; raises unless every answer was a 200."""
    command = [
        sys.executable, "-m", "benchmarks.loadgen", url, "--connections", str(connections),
        "--seconds", str(seconds), "--requests", str(requests),
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=seconds + 60
    )
    result: dict[str, Any] = json.loads(done.stdout)
    if set(result["statuses"]) != {"200"}:
        raise RuntimeError(f"{url} answered {result['statuses']}, not only 200")
    return result


def run(settings: Settings, services: Services) -> list[Row]:
    assert services.redis_url is not None
    found = [a for a in APP_ADAPTERS if a.available()]
    contenders = []
    for framework in sorted({a.framework for a in found}):
        contenders.append(f"none/{framework}")
        contenders += [f"{a.library}/{framework}" for a in found if a.framework == framework]
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in contenders}
    with ExitStack() as stack:
        urls = {}
        for name in contenders:
            framework = name.partition("/")[2]
            env = {
                "BENCH_CONTENDER": name,
                "BENCH_STORAGE": services.redis_url,
                "BENCH_NAMESPACE": services.namespace,
            }
            server = stack.enter_context(
                serve(SERVED_APP, server=SERVERS[PROTOCOLS[framework]],
                      workers=settings.served_workers, env=env)
            )  # fmt: skip
            urls[name] = server.url
            load(server.url, settings.served_connections, 10.0, settings.served_warm_up)

        def sample(name: str) -> float:
            result = load(urls[name], settings.served_connections, settings.served_seconds, 10**7)
            results[name].append(result)
            return float(result["requests_per_s"])

        measured = interleaved(
            {name: functools.partial(sample, name) for name in contenders},
            settings.served_rounds,
        )
    rows = []
    for name in contenders:
        library, _, framework = name.partition("/")
        row = Row("servers", library, framework, None, "redis")
        row.measured("requests_per_s", measured[name])
        for metric in ("p50_ms", "p99_ms"):
            values = [result[metric] for result in results[name]]
            row.metrics[metric] = statistics.median(values)
            row.samples[metric] = values
        row.note = f"{settings.served_workers} worker(s), {settings.served_connections} connections"
        rows.append(row)
    return rows
