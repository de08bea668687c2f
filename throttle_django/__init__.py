"""Rate limiting for Django: the `throttle_django` app (settings in `THROTTLE`), its
middleware, the `@limit` and `@exempt` view decorators, limits in code (`check`, `reset`),
the database storage, system checks, management commands, admin and a DRF throttle."""

from __future__ import annotations

from throttle_django.decisions import ThrottledRequest, decision_of
from throttle_django.decorators import exempt, limit
from throttle_django.shortcuts import acheck, areset, check, reset

__all__ = [
    "ThrottledRequest",
    "acheck",
    "areset",
    "check",
    "decision_of",
    "exempt",
    "limit",
    "reset",
]
