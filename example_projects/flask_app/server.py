"""Run a WSGI app under gunicorn on a free loopback port, for as long as a `with` block
lasts."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx

from example_projects.asgi_app.server import ROOT, _lines, _stop

_LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")


def _url(lines: queue.Queue[str | None], timeout: float) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            message = f"gunicorn did not listen within {timeout:g}s:\n{''.join(seen)}"
            raise RuntimeError(message) from None
        if line is None:
            raise RuntimeError(f"gunicorn exited before it listened:\n{''.join(seen)}")
        seen.append(line)
        found = _LISTENING.search(line)
        if found:
            return found.group(1)


def _answering(process: subprocess.Popen[str], url: str, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url + path, timeout=timeout).raise_for_status()
            return
        except httpx.HTTPError:
            if process.poll() is not None:
                raise RuntimeError("gunicorn exited: its workers could not load the app") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def serve(
    app: str,
    *,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    ready_path: str = "/health",
    timeout: float = 60,
) -> Iterator[str]:
    """Serve `app` ("module:attribute") with `workers` gunicorn processes on 127.0.0.1 at a
    free port; yield the base URL once it answers `ready_path`; stop them all on exit."""
    command = [
        sys.executable, "-m", "gunicorn", app, "--bind", "127.0.0.1:0",
        "--workers", str(workers), "--log-level", "info",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stderr is not None
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_lines, args=(process.stderr, lines), daemon=True).start()
        url = _url(lines, timeout)
        _answering(process, url, ready_path, timeout)
        yield url
    finally:
        _stop(process)
