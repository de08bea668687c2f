"""Serve an example project with a real server and several worker processes on a free
loopback port, for as long as a `with` block lasts: uvicorn for ASGI apps, gunicorn for
WSGI apps (Django, Flask). Used by `make demo` and the end-to-end tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

ROOT = Path(__file__).resolve().parents[1]
ServerKind = Literal["uvicorn", "gunicorn"]


@dataclass(frozen=True)
class Kind:
    """How one server is started, and how its log says that it listens (the URL is the
    pattern's group) and that one worker has loaded the app and takes requests."""

    command: tuple[str, ...]
    listening: re.Pattern[str]
    ready: str


KINDS: dict[ServerKind, Kind] = {
    # uvicorn's own proxy-header handling is off, so the app sees the real peer address.
    "uvicorn": Kind(
        ("uvicorn", "{app}", "--host", "127.0.0.1", "--port", "0", "--workers", "{workers}",
         "--no-proxy-headers", "--no-access-log"),
        re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)"),
        "Application startup complete.",
    ),
    # gunicorn logs no line once a worker has loaded the app: the config module's
    # `post_worker_init` hook writes one.
    "gunicorn": Kind(
        ("gunicorn", "{app}", "--bind", "127.0.0.1:0", "--workers", "{workers}",
         "--config", "python:example_projects.gunicorn_config"),
        re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)"),
        "Worker ready",
    ),
}  # fmt: skip


class ServerLog:
    """What a server has written to stderr, read by a thread: the last `KEPT` lines, the URL
    it listens on and how many workers said they were ready."""

    KEPT = 20_000

    def __init__(self, kind: Kind, stream: IO[str]) -> None:
        self.kind = kind
        self.lines: deque[str] = deque(maxlen=self.KEPT)
        self.url: str | None = None
        self.ready = 0
        self.closed = False
        self.changed = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self.changed:
                self.lines.append(line)
                found = self.kind.listening.search(line)
                self.url = found.group(1) if found and self.url is None else self.url
                self.ready += self.kind.ready in line
                self.changed.notify_all()
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    def wait(self, workers: int, timeout: float) -> str:
        """The URL, once the server listens and `workers` workers in all have said they are
        ready; RuntimeError (with the log) if it exits or times out first."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while self.url is None or self.ready < workers:
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    why = "exited before it was ready" if self.closed else "was not ready"
                    tail = "".join(list(self.lines)[-100:])
                    raise RuntimeError(f"the server {why} within {timeout:g}s:\n{tail}")
                self.changed.wait(left)
            return self.url

    def text(self) -> str:
        return "".join(self.lines)


@dataclass
class Server:
    """A running server: its base `url`, its master `process` and its `log`."""

    url: str
    process: subprocess.Popen[str]
    log: ServerLog

    @property
    def pid(self) -> int:
        return self.process.pid

    def workers(self) -> list[int]:
        """The PIDs of the worker processes right now: the master's children, less
        multiprocessing's helper process (its resource tracker)."""
        found = []
        for pid in children(self.pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"resource_tracker" not in command:
                found.append(pid)
        return sorted(found)

    def wait_for_workers(self, count: int, timeout: float = 60) -> None:
        """Wait until `count` workers in all have said they are ready since the start (after
        a worker died, the server starts another: count it too)."""
        self.log.wait(count, timeout)


def children(pid: int) -> list[int]:
    """The PIDs of the live child processes of `pid` (from /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in task.read_text().split()]
        except OSError:
            continue
    return found


def _stop(process: subprocess.Popen[str]) -> None:
    """Stop the server (SIGINT: a quick shutdown in both servers), then kill whatever is
    left of its process group."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@contextmanager
def serve(
    app: str,
    *,
    server: ServerKind = "uvicorn",
    workers: int = 1,
    env: Mapping[str, str | None] | None = None,
    timeout: float = 60,
) -> Iterator[Server]:
    """Serve `app` ("module:attribute", an ASGI app for uvicorn, a WSGI app for gunicorn)
    with `workers` worker processes on 127.0.0.1 at a free port, with `env` added to the
    environment (None removes a variable); yield the `Server` once every worker has loaded
    the app; on exit stop the server and every process of its group, whatever happened in
    the block."""
    kind = KINDS[server]
    command = [sys.executable, "-m"]
    command += [part.format(app=app, workers=workers) for part in kind.command]
    environ = {**os.environ, **(env or {})}
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={name: value for name, value in environ.items() if value is not None},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stderr is not None
        log = ServerLog(kind, process.stderr)
        yield Server(log.wait(workers, timeout), process, log)
    finally:
        _stop(process)
