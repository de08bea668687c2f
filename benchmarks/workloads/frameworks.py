"""Workload 6, framework overhead: requests/s of a hello-world route called in-process with a
raw ASGI or WSGI call loop (no client, no sockets), with and without limiting, the limits in
memory and in Redis; the added cost per request is the difference of the two times per
request."""

from __future__ import annotations

import asyncio
import io
import sys
from typing import Any, Protocol

from benchmarks.frameworks import APP_ADAPTERS, BASELINES, PROTOCOLS, WORKLOADS, AppAdapter
from benchmarks.record import Row
from benchmarks.settings import Services, Settings
from benchmarks.timing import CPU, WALL, Clock, Measured, Sample, interleaved

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


def asgi_rate(app: Any, requests: int, clock: Clock = CPU) -> float:
    """Requests per second of `clock` of `app` answering GET / `requests` times, after a
    warm-up; every answer must be a 200, so a contender that refuses cannot look fast."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return REQUEST

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def loop(count: int) -> float:
        start = clock()
        for _ in range(count):
            await app(dict(SCOPE), receive, send)
        return count / (clock() - start)

    async def measure() -> float:
        await loop(50)
        return await loop(requests)

    result = asyncio.run(measure())
    if set(statuses) != {200}:
        raise RuntimeError(f"the app answered {sorted(set(statuses))}, not only 200")
    return result


ENVIRON: dict[str, Any] = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/",
    "QUERY_STRING": "",
    "SERVER_NAME": "bench",
    "SERVER_PORT": "80",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "127.0.0.1",
    "HTTP_HOST": "bench",
    "HTTP_USER_AGENT": "bench",
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "http",
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": False,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
}


def wsgi_rate(app: Any, requests: int, clock: Clock = CPU) -> float:
    """Requests per second of `clock` of the WSGI `app` answering GET / `requests` times (a
    fresh environ each, the body read and closed as a server does), after a warm-up; every
    answer must be a 200."""
    statuses: set[str] = set()

    def start_response(status: str, headers: list[tuple[str, str]], *exc: Any) -> None:
        statuses.add(status)

    def loop(count: int) -> float:
        start = clock()
        for _ in range(count):
            body = app({**ENVIRON, "wsgi.input": io.BytesIO()}, start_response)
            for _chunk in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()
        return count / (clock() - start)

    loop(50)
    result = loop(requests)
    if statuses != {"200 OK"}:
        raise RuntimeError(f"the app answered {sorted(statuses)}, not only 200")
    return result


class Rate(Protocol):
    """A call loop: requests per second of `clock` of an app answering `requests` times."""

    def __call__(self, app: Any, requests: int, clock: Clock = CPU) -> float: ...


RATES: dict[str, Rate] = {"asgi": asgi_rate, "wsgi": wsgi_rate}
"""The call loop of each protocol."""

CLOCKS: dict[str, Clock] = {"memory": CPU, "redis": WALL}
"""How each storage's requests are timed: in memory a request only computes (CPU time, which
other processes disturb less); on Redis the wait for the server is part of its cost."""


def requests(settings: Settings, backend: str) -> int:
    """How many requests a sample makes with its limits on `backend`."""
    return settings.asgi_redis_requests if backend == "redis" else settings.asgi_requests


def run(settings: Settings, services: Services) -> list[Row]:
    found = [a for a in APP_ADAPTERS if a.available()]
    frameworks = sorted({a.framework for a in found})
    storages = {"memory": None, "redis": services.redis_url}
    backends = [b for b, url in storages.items() if b == "memory" or url is not None]

    def limited(adapter: AppAdapter, backend: str) -> Sample:
        rate, clock, url = RATES[adapter.protocol], CLOCKS[backend], storages[backend]
        count = requests(settings, backend)
        return lambda: rate(adapter.app(LIMIT, PERIOD, url, services.namespace), count, clock)

    def plain(framework: str, backend: str) -> Sample:
        rate, clock = RATES[PROTOCOLS[framework]], CLOCKS[backend]
        count = requests(settings, backend)
        return lambda: rate(BASELINES[framework](), count, clock)

    plan: dict[str, Sample] = {}
    for backend in backends:
        plan |= {f"{backend}/none/{f}": plain(f, backend) for f in frameworks}
        plan |= {f"{backend}/{a.library}/{a.framework}": limited(a, backend) for a in found}
    measured = interleaved(plan, settings.repeats)
    return [
        row
        for framework in frameworks
        for backend in backends
        for row in framework_rows(framework, backend, found, measured)
    ]


def framework_rows(
    framework: str, backend: str, found: list[AppAdapter], measured: dict[str, Measured]
) -> list[Row]:
    """The unlimited baseline of `framework` timed as `backend`'s requests are, then each
    library's row with the µs it adds per request."""
    workload = WORKLOADS[framework]
    base = Row(workload, "none", framework, None, backend)
    base.measured("requests_per_s", measured[f"{backend}/none/{framework}"])
    rows = [base]
    for adapter in (a for a in found if a.framework == framework):
        row = Row(workload, adapter.library, framework, None, backend)
        row.measured("requests_per_s", measured[f"{backend}/{adapter.library}/{framework}"])
        per_request = 1 / row.metrics["requests_per_s"] - 1 / base.metrics["requests_per_s"]
        row.metrics["added_us"] = per_request * 1e6
        rows.append(row)
    return rows
