"""gunicorn settings for the example projects (`--config python:example_projects.gunicorn_config`):
a log line once each worker has loaded the app, which is when it takes requests, and no
control socket (its default path is one per user, shared by every server running)."""

from __future__ import annotations

from typing import Any

loglevel = "info"
accesslog = None
control_socket_disable = True


def post_worker_init(worker: Any) -> None:
    worker.log.info("Worker ready (pid: %s)", worker.pid)
