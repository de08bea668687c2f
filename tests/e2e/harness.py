"""The frameworks under test and how each is served: one `Framework` entry per example
project, all configured by the same environment variables (`example_projects.environment`)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from example_projects.environment import VARIABLES
from example_projects.server import Server, ServerKind, serve

WORKERS = 4


@dataclass(frozen=True)
class Framework:
    """An example project: its `app` ("module:attribute") served by `server`, with the
    extra environment it needs (Django's settings module, say)."""

    name: str
    server: ServerKind
    app: str
    env: Mapping[str, str] = field(default_factory=dict)


FRAMEWORKS = (
    Framework("asgi", "uvicorn", "example_projects.asgi_app.app:app"),
    Framework("flask", "gunicorn", "example_projects.flask_app.app:app"),
)
"""Every framework the end-to-end tests run against; a test parametrized over `framework`
runs once per entry."""


@contextmanager
def running(
    framework: Framework, env: Mapping[str, str], workers: int = WORKERS
) -> Iterator[Server]:
    """`framework`'s example project served with `workers` workers and `env` (the
    `THROTTLE_*` variables; any other of them set in the test's environment is removed);
    stopped, with every process of its group, on exit."""
    unset: dict[str, str | None] = dict.fromkeys(VARIABLES)
    with serve(
        framework.app,
        server=framework.server,
        workers=workers,
        env={**unset, **framework.env, **env},
    ) as server:
        yield server


def rss_bytes(pid: int) -> int:
    """The resident set size of process `pid`, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise ValueError(f"process {pid} reports no VmRSS")


def kill_worker(server: Server) -> int:
    """SIGKILL one worker of `server`, as a crash would; return its PID."""
    pid = server.workers()[0]
    os.kill(pid, signal.SIGKILL)
    return pid
