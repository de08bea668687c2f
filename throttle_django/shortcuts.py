"""Limits in code: `check(request, limit, id=...)` decides one limit for a request where a
decorator does not fit (inside a view, after reading a form), and `reset(request, id=...)`
forgets a request's counter (after a successful login). The settings' storage, keys, trusted
proxies and `FAIL_OPEN` apply, as for the middleware."""

from __future__ import annotations

from functools import lru_cache

from django.http import HttpRequest

from throttle_core.counters import areset_counter, reset_counter
from throttle_core.errors import ConfigError
from throttle_core.http import Decision, KeySpec, RequestLimiter, ViewLimit, ViewLimits
from throttle_core.http.keys import Resolver, aresolve, check_key, resolve, resolver
from throttle_core.http.views import LimitValue
from throttle_django import conf
from throttle_django.decisions import request_view

LIMITS_KEPT = 1024
"""Limits `check` keeps built for the (limit, id, key, cost) it saw lately."""


@lru_cache(maxsize=LIMITS_KEPT)
def _limit(limit: LimitValue, id: str, key: KeySpec | None, cost: int) -> ViewLimit:
    return ViewLimit(limit, key=key, cost=cost, id=id)


def _checked_id(id: object) -> str:
    if not isinstance(id, str) or not id:
        raise ConfigError(f"check() and reset() need the counter's id, a non-empty str; got {id!r}")
    return id


def _view_limits(limit: LimitValue, id: str, key: KeySpec | None, cost: int) -> ViewLimits:
    if isinstance(limit, str):
        found = _limit(limit, _checked_id(id), key, cost)
    else:
        found = ViewLimit(limit, key=key, cost=cost, id=_checked_id(id))
    return ViewLimits((found,), global_limits=False, peek=cost == 0)


def check(
    request: HttpRequest, limit: LimitValue, *, id: str, key: KeySpec | None = None, cost: int = 1
) -> Decision:
    """Take `cost` tokens from the counter `id` of this request's key (`key`, default:
    `THROTTLE["KEY"]`) under `limit` (a limit string or config dict) and return the
    `Decision`; `cost=0` peeks, taking nothing. It never answers the request: the caller
    reads `decision.allowed` and `decision.retry_after`. A peek is refused when no request
    is left (as every framework's peek is: fewer tokens remain than one request takes)."""
    limiter = conf.limiter()
    return limiter.check(request_view(request, limiter), _view_limits(limit, id, key, cost))


async def acheck(
    request: HttpRequest, limit: LimitValue, *, id: str, key: KeySpec | None = None, cost: int = 1
) -> Decision:
    """`check` without blocking the event loop."""
    limiter = conf.limiter()
    view = request_view(request, limiter, is_async=True)
    return await limiter.acheck(view, _view_limits(limit, id, key, cost))


def _finder(limiter: RequestLimiter, key: KeySpec | None) -> Resolver:
    return resolver(limiter.key if key is None else check_key(key), limiter.client)


def reset(request: HttpRequest, *, id: str, key: KeySpec | None = None) -> bool:
    """Forget this request's counter `id` (its key found as `check` finds it), e.g. after a
    successful login; whether one was stored."""
    limiter = conf.limiter()
    found = resolve(_finder(limiter, key), request_view(request, limiter))
    return reset_counter(limiter.storage, _checked_id(id), found)


async def areset(request: HttpRequest, *, id: str, key: KeySpec | None = None) -> bool:
    """`reset` without blocking the event loop."""
    limiter = conf.limiter()
    found = await aresolve(_finder(limiter, key), request_view(request, limiter, is_async=True))
    return await areset_counter(limiter.storage, _checked_id(id), found)
