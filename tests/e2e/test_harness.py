"""The server harness itself: uvicorn and gunicorn serve with every worker ready, list their
workers, replace a killed one, and leave no process behind even when the test fails."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from example_projects.server import ServerKind, serve
from tests.e2e.harness import kill_worker, rss_bytes

pytestmark = pytest.mark.slow

APPS: dict[ServerKind, str] = {
    "uvicorn": "example_projects.asgi_app.app:app",
    "gunicorn": "tests.e2e.wsgi_probe:app",
}


def gone(pids: list[int], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while any(Path(f"/proc/{pid}").exists() for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("kind", list(APPS))
def test_a_server_serves_with_every_worker_replaces_a_killed_one_and_leaves_nothing(
    kind: ServerKind,
) -> None:
    processes: list[int] = []

    def failing_test() -> None:
        with serve(APPS[kind], server=kind, workers=2) as server:
            workers = server.workers()
            assert len(workers) == 2
            assert all(rss_bytes(pid) > 1_000_000 for pid in workers)
            assert httpx.get(f"{server.url}/health").status_code == 200
            killed = kill_worker(server)
            server.wait_for_workers(3)
            deadline = time.monotonic() + 10
            while len(server.workers()) != 2 or killed in server.workers():
                assert time.monotonic() < deadline, server.workers()
                time.sleep(0.05)
            processes.extend([server.pid, *server.workers()])
            raise RuntimeError("the test failed")

    with pytest.raises(RuntimeError, match="the test failed"):
        failing_test()
    assert len(processes) == 3
    assert gone(processes), "every process of the server was stopped"


def test_a_server_that_cannot_start_says_why() -> None:
    def start() -> None:
        with serve(APPS["uvicorn"], env={"THROTTLE_POLICY": "leaky"}):
            pass

    with pytest.raises(RuntimeError, match="exited before it was ready") as failed:
        start()
    assert "leaky" in str(failed.value)
