"""Framework integrations measured in workload 6, behind the same `AppAdapter` interface.

Each adapter builds a framework's hello-world app limited by one library; `BASELINES` holds
the same apps unlimited, `PROTOCOLS` how each framework's apps are called (an ASGI or a
WSGI loop in `benchmarks.workloads.frameworks`), `WORKLOADS` the workload each framework's
rows are reported under.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.frameworks import django, flask, starlette
from benchmarks.frameworks.base import AppAdapter, Protocol
from benchmarks.frameworks.django_ratelimit import DjangoRatelimit
from benchmarks.frameworks.flask_limiter import FlaskLimiter
from benchmarks.frameworks.slowapi import SlowAPI
from benchmarks.frameworks.throttle_asgi import ThrottleASGI
from benchmarks.frameworks.throttle_django import ThrottleDjango
from benchmarks.frameworks.throttle_flask import ThrottleFlask

APP_ADAPTERS: tuple[AppAdapter, ...] = (
    ThrottleASGI(),
    SlowAPI(),
    ThrottleFlask(),
    FlaskLimiter(),
    ThrottleDjango(),
    DjangoRatelimit(),
)

BASELINES: dict[str, Callable[[], Any]] = {
    "starlette": starlette.hello_app,
    "flask": flask.hello_app,
    "django": django.hello_app,
}
"""Per framework, its hello-world app without any limiting."""

PROTOCOLS: dict[str, Protocol] = {"starlette": "asgi", "flask": "wsgi", "django": "wsgi"}
"""How each framework's apps are called."""

WORKLOADS: dict[str, str] = {"starlette": "asgi", "flask": "wsgi", "django": "django"}
"""The workload name each framework's rows are reported under."""

__all__ = ["APP_ADAPTERS", "BASELINES", "PROTOCOLS", "WORKLOADS", "AppAdapter", "Protocol"]
