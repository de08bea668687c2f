"""The frameworks under test and how each is served: one `Framework` entry per example
project, all configured by the same environment variables (`example_projects.environment`)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from example_projects.environment import VARIABLES
from example_projects.server import Server, ServerKind, serve

WORKERS = 4


@dataclass(frozen=True)
class Framework:
    """An example project: its `app` ("module:attribute") served by `server`, with the
    extra environment it needs (Django's settings module, say) and the storages only it can
    use, besides the shared ones (`conftest.STORAGES`)."""

    name: str
    server: ServerKind
    app: str
    env: Mapping[str, str] = field(default_factory=dict)
    storages: tuple[str, ...] = ()


DJANGO = Framework(
    "django",
    "gunicorn",
    "example_projects.django_site.wsgi:application",
    {"DJANGO_SETTINGS_MODULE": "example_projects.django_site.settings"},
    storages=("django",),
)
FRAMEWORKS = (
    Framework("asgi", "uvicorn", "example_projects.asgi_app.app:app"),
    Framework("flask", "gunicorn", "example_projects.flask_app.app:app"),
    DJANGO,
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
    with serve(
        framework.app,
        server=framework.server,
        workers=workers,
        env=environment(framework, env),
    ) as server:
        yield server


def environment(framework: Framework, env: Mapping[str, str]) -> dict[str, str | None]:
    """What `framework`'s processes get added to their environment: its own variables and
    `env`, every other `THROTTLE_*` variable of the test's environment removed (None)."""
    unset: dict[str, str | None] = dict.fromkeys(VARIABLES)
    return {**unset, **framework.env, **env}


class Serve(Protocol):
    """Serves the framework under test with `env` added to its storage's settings."""

    def __call__(
        self, env: Mapping[str, str], workers: int = WORKERS
    ) -> AbstractContextManager[Server]: ...


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
