"""Shared fixtures: frozen clocks and the real services (fail under CI=true, skip elsewhere)."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "throttle", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("throttle")

REDIS_URL = os.environ.get("THROTTLE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get(
    "THROTTLE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

START = 1_699_920_000.0
"""A fixed epoch time (2023-11-14 00:00 UTC), aligned to minutes, hours and days."""


def reachable(url: str, default_port: int) -> bool:
    """Whether something accepts TCP connections at the host and port of `url`."""
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def need_service(name: str, url: str, default_port: int) -> str:
    """Return `url` if the service answers; fail under CI=true, skip otherwise."""
    if reachable(url, default_port):
        return url
    message = f"{name} is not reachable at {url}"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing service is a failure)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url() -> str:
    return need_service("Redis", REDIS_URL, 6379)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return need_service("PostgreSQL", POSTGRES_URL, 5432)
