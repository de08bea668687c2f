"""`python -m benchmarks.loadgen URL`: a bounded HTTP/1.1 load from its own process, for the
served-app workload. `--connections` connections each send `GET` requests one after another
(keep-alive, or a new connection when the server closes it, as gunicorn's sync workers do)
until `--seconds` have passed or `--requests` were sent in all; prints one JSON line:
requests, seconds, requests/s, p50 and p99 latency (ms) and the status counts.

It speaks just enough HTTP (a status line, `Content-Length` bodies) over asyncio streams,
so that the client costs far less per request than the servers it measures."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from urllib.parse import urlsplit


async def connection(
    host: str,
    port: int,
    request: bytes,
    deadline: float,
    budget: list[int],
    latencies: list[float],
    statuses: Counter[int],
) -> None:
    writer: asyncio.StreamWriter | None = None
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            start = time.perf_counter()
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            length, close = 0, False
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection":
                    close = value.strip().lower() == b"close"
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            statuses[int(lines[0].split()[1])] += 1
            if close:
                writer.close()
                writer = None
    finally:
        if writer is not None:
            writer.close()


async def load(url: str, connections: int, seconds: float, requests: int) -> dict[str, object]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    budget = [requests]
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(
        connection(host, port, request, deadline, budget, latencies, statuses)
        for _ in range(connections)
    ))  # fmt: skip
    elapsed = time.perf_counter() - start
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loadgen", description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--requests", type=int, default=100_000)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(load(args.url, args.connections, args.seconds, args.requests))))


if __name__ == "__main__":
    main()
