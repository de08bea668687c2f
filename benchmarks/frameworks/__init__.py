"""Framework integrations measured in workload 6, behind the same `AppAdapter` interface.

Each adapter builds a framework's hello-world app limited by one library; `BASELINES` holds
the same apps unlimited. Only Starlette exists so far: Django and Flask adapters (ours
against django-ratelimit and Flask-Limiter) join when those integrations land, with a WSGI
driver beside the ASGI one in `benchmarks.workloads.frameworks`.
"""

from __future__ import annotations

from benchmarks.frameworks.base import AppAdapter
from benchmarks.frameworks.slowapi import SlowAPI
from benchmarks.frameworks.starlette import BASELINES
from benchmarks.frameworks.throttle_asgi import ThrottleASGI

APP_ADAPTERS: tuple[AppAdapter, ...] = (ThrottleASGI(), SlowAPI())

__all__ = ["APP_ADAPTERS", "BASELINES", "AppAdapter"]
