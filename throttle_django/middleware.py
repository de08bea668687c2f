"""`RateLimitMiddleware`: the `THROTTLE` limits and the limits of the view a request resolves
to, decided as one compound decision before the view runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve

from throttle_core.http import GLOBAL
from throttle_django import conf
from throttle_django.decisions import (
    GLOBAL_DECIDED,
    add_headers,
    arefusal,
    decision_of,
    mark_decided,
    publish,
    refusal,
    request_view,
)
from throttle_django.decorators import NOT_ROUTED, Covered, covered

GetResponse = Callable[[HttpRequest], Any]


PATHS_KEPT = 4096
"""Paths whose view the middleware keeps resolved (the least recent evicted beyond)."""


@lru_cache(maxsize=PATHS_KEPT)
def _covering(path: str, urlconf: Any) -> Covered:
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return NOT_ROUTED
    return covered(match.func)


def covering(request: HttpRequest) -> Covered:
    """What covers `request`: the view it resolves to with that view's limits, or the global
    limits alone when no URL matches it (a 404 is counted like any request). Resolved once
    per path and URLconf: Django resolves the path again to call the view."""
    urlconf = getattr(request, "urlconf", None)
    return _covering(request.path_info, settings.ROOT_URLCONF if urlconf is None else urlconf)


@receiver(setting_changed)
def _urls_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _covering.cache_clear()


class RateLimitMiddleware:
    """Rate limits every request with `THROTTLE`'s `LIMITS` and `RULES` and the `@limit`s of
    its view, as one compound decision (a refusal by one takes nothing from the others);
    `@exempt` views skip the global limits. Adds the rate-limit headers to every response a
    limit covered, answers a refusal with the problem+json 429 (or `THROTTLE["RESPONSE"]`'s
    response), and a storage failure by `FAIL_OPEN`: through, or 503. `request.throttle` is
    the request's `Decision` (None when no limit applied).

    Sync and async: under ASGI it awaits the storage's async path, with no thread hop when
    the storage has one. Put it after `AuthenticationMiddleware` when a limit counts by user.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
        conf.configuration()

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        configuration = conf.configuration()
        limiter = configuration.limiter
        request.throttle = None  # type: ignore[attr-defined]
        if not limiter.enabled:
            return self.get_response(request)
        target = self.covering(request)
        view = request_view(request, limiter, user=target.needs_user(limiter))
        if target.hard is GLOBAL and target.soft is None:
            hard = decision = limiter.solo_check(view)
        else:
            hard, decision = target.check(limiter, view)
        publish(request, decision)
        if hard.status is not None:
            return refusal(request, decision, configuration, target.sender)
        response: HttpResponseBase = self.get_response(request)
        add_headers(response, decision_of(request))
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        configuration = conf.configuration()
        limiter = configuration.limiter
        request.throttle = None  # type: ignore[attr-defined]
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        if not limiter.enabled:
            return await get_response(request)
        target = self.covering(request)
        view = request_view(request, limiter, is_async=True, user=target.needs_user(limiter))
        hard, decision = await target.acheck(limiter, view)
        publish(request, decision)
        if hard.status is not None:
            return await arefusal(request, decision, configuration, target.sender)
        response = await get_response(request)
        add_headers(response, decision_of(request))
        return response

    @staticmethod
    def covering(request: HttpRequest) -> Covered:
        """What covers `request`, its limits marked decided (so `@limit` does not count them
        again)."""
        target = covering(request)
        setattr(request, GLOBAL_DECIDED, True)
        if target.limits:
            mark_decided(request, target.limits)
        return target
