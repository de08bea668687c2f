"""Framework integrations measured in workload 6, behind the same `AppAdapter` interface.

Each adapter builds a framework's hello-world app limited by one library; `BASELINES` holds
the same apps unlimited, `PROTOCOLS` how each framework's apps are called (an ASGI or a
WSGI loop in `benchmarks.workloads.frameworks`). Django (ours against django-ratelimit)
joins when its integration lands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.frameworks import flask, starlette
from benchmarks.frameworks.base import AppAdapter, Protocol
from benchmarks.frameworks.flask_limiter import FlaskLimiter
from benchmarks.frameworks.slowapi import SlowAPI
from benchmarks.frameworks.throttle_asgi import ThrottleASGI
from benchmarks.frameworks.throttle_flask import ThrottleFlask

APP_ADAPTERS: tuple[AppAdapter, ...] = (ThrottleASGI(), SlowAPI(), ThrottleFlask(), FlaskLimiter())

BASELINES: dict[str, Callable[[], Any]] = {
    "starlette": starlette.hello_app,
    "flask": flask.hello_app,
}
"""Per framework, its hello-world app without any limiting."""

PROTOCOLS: dict[str, Protocol] = {"starlette": "asgi", "flask": "wsgi"}
"""How each framework's apps are called."""

__all__ = ["APP_ADAPTERS", "BASELINES", "PROTOCOLS", "AppAdapter", "Protocol"]
