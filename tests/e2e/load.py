"""A real HTTP client for the end-to-end tests: bounded bursts of concurrent requests, each
answer recorded with its timing (or the error that replaced it)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

TIMEOUT = 10.0
"""Seconds a request may take before the client gives up (a hung server must not hang the
suite)."""


@dataclass(frozen=True)
class Request:
    method: str = "GET"
    path: str = "/"
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""


@dataclass(frozen=True)
class Answer:
    """One request's outcome: `status` (None when the connection failed: `error` says how),
    response headers and body, and when it was sent and answered (`time.time()`)."""

    request: Request
    status: int | None
    headers: httpx.Headers
    body: bytes
    sent: float
    answered: float
    error: str = ""

    @property
    def seconds(self) -> float:
        return self.answered - self.sent

    def json(self) -> object:
        return httpx.Response(self.status or 0, content=self.body).json()


def send(client: httpx.Client, request: Request) -> Answer:
    sent = time.time()
    try:
        response = client.request(
            request.method, request.path, headers=dict(request.headers), content=request.content
        )
    except httpx.HTTPError as error:
        return Answer(request, None, httpx.Headers(), b"", sent, time.time(), repr(error))
    return Answer(
        request, response.status_code, response.headers, response.content, sent, time.time()
    )


@contextmanager
def client(url: str, *, keep_alive: bool = True) -> Iterator[httpx.Client]:
    """An httpx client for `url` (thread-safe); without `keep_alive` every request asks for
    `Connection: close`, so each opens a new connection and the kernel spreads them over the
    server's workers. (A pool told to keep no idle connections closes them from whichever
    thread returns one, and under load another thread's read then fails with EBADF.)"""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    headers = {} if keep_alive else {"Connection": "close"}
    with httpx.Client(base_url=url, limits=limits, timeout=TIMEOUT, headers=headers) as http:
        yield http


def burst(
    url: str,
    requests: Sequence[Request],
    *,
    concurrency: int = 12,
    keep_alive: bool = False,
    after: Callable[[int], None] | None = None,
) -> list[Answer]:
    """Send `requests` with at most `concurrency` in flight; the answers in the order of
    `requests`. `after(n)` is called once `n` answers have come back, for each n (from one
    of the sending threads), so a test can break something mid-burst: while it runs, no
    thread whose answer came back sends another request, so only those already in flight
    (fewer than `concurrency`) straddle the break, however slowly the machine schedules."""
    done = 0
    guard = threading.Lock()

    def one(http: httpx.Client, request: Request) -> Answer:
        nonlocal done
        answer = send(http, request)
        if after is not None:
            with guard:
                done += 1
                after(done)
        return answer

    with client(url, keep_alive=keep_alive) as http, ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(lambda request: one(http, request), requests))
