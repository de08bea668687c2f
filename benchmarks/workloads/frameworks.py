"""Workload 6, framework overhead: requests/s of a hello-world route called in-process with a
raw ASGI call loop (no client, no sockets), with and without limiting; the added cost per
request is the difference of the two times per request."""

from __future__ import annotations

import asyncio
from typing import Any

from benchmarks.frameworks import APP_ADAPTERS, BASELINES, AppAdapter
from benchmarks.record import Row
from benchmarks.settings import Services, Settings
from benchmarks.timing import CPU, Sample, interleaved

LIMIT = 10**9
PERIOD = 3600
SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/",
    "raw_path": b"/",
    "root_path": "",
    "query_string": b"",
    "headers": [(b"host", b"bench"), (b"user-agent", b"bench")],
    "client": ("127.0.0.1", 50000),
    "server": ("bench", 80),
}
REQUEST = {"type": "http.request", "body": b"", "more_body": False}


def asgi_rate(app: Any, requests: int) -> float:
    """Requests per CPU second of `app` answering GET / `requests` times, after a warm-up;
    every answer must be a 200, so a contender that refuses cannot look fast."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return REQUEST

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def loop(count: int) -> float:
        start = CPU()
        for _ in range(count):
            await app(dict(SCOPE), receive, send)
        return count / (CPU() - start)

    async def measure() -> float:
        await loop(50)
        return await loop(requests)

    result = asyncio.run(measure())
    if set(statuses) != {200}:
        raise RuntimeError(f"the app answered {sorted(set(statuses))}, not only 200")
    return result


def run(settings: Settings, services: Services) -> list[Row]:
    found = [a for a in APP_ADAPTERS if a.protocol == "asgi" and a.available()]
    frameworks = sorted({a.framework for a in found})

    def limited(adapter: AppAdapter) -> Sample:
        return lambda: asgi_rate(adapter.app(LIMIT, PERIOD), settings.asgi_requests)

    def plain(framework: str) -> Sample:
        return lambda: asgi_rate(BASELINES[framework](), settings.asgi_requests)

    plan = {f"none/{f}": plain(f) for f in frameworks}
    plan |= {f"{a.library}/{a.framework}": limited(a) for a in found}
    measured = interleaved(plan, settings.repeats)
    rows = []
    for framework in frameworks:
        base = Row("asgi", "none", framework, None, "memory")
        base.measured("requests_per_s", measured[f"none/{framework}"])
        rows.append(base)
        for adapter in (a for a in found if a.framework == framework):
            row = Row("asgi", adapter.library, framework, None, "memory")
            row.measured("requests_per_s", measured[f"{adapter.library}/{framework}"])
            per_request = 1 / row.metrics["requests_per_s"] - 1 / base.metrics["requests_per_s"]
            row.metrics["added_us"] = per_request * 1e6
            rows.append(row)
    return rows
