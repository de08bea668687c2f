"""Run an ASGI app under uvicorn on a free loopback port, for as long as a `with` block lasts."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_RUNNING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")
_STARTED = "Application startup complete."


def _lines(stream: Iterator[str], into: queue.Queue[str | None]) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


def _ready(lines: queue.Queue[str | None], workers: int, timeout: float) -> str:
    url: str | None = None
    started = 0
    seen: list[str] = []
    while url is None or started < workers:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            message = f"uvicorn was not ready within {timeout:g}s:\n{''.join(seen)}"
            raise RuntimeError(message) from None
        if line is None:
            raise RuntimeError(f"uvicorn exited before it was ready:\n{''.join(seen)}")
        seen.append(line)
        found = _RUNNING.search(line)
        url = found.group(1) if found else url
        started += _STARTED in line
    return url


def _stop(process: subprocess.Popen[str]) -> None:
    """Stop uvicorn gracefully, then make sure nothing of its process group is left."""
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
    app: str, *, workers: int = 1, env: Mapping[str, str] | None = None, timeout: float = 60
) -> Iterator[str]:
    """Serve `app` ("module:attribute") with `workers` uvicorn processes on 127.0.0.1 at a
    free port; yield the base URL once every worker has started; stop them all on exit.
    uvicorn's own proxy-header handling is off, so the app sees the real peer address."""
    command = [
        sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", "0",
        "--workers", str(workers), "--no-proxy-headers", "--no-access-log",
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
        yield _ready(lines, workers, timeout)
    finally:
        _stop(process)
