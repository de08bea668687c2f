"""From a Django request to the request side's `RequestView`, and from a `Decision` back to a
response: the default refusal, `THROTTLE["RESPONSE"]`, the rate-limit headers, the signal.

Shared by the middleware, the decorators, the shortcuts and the DRF throttle, so each decides
and answers the same way.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from throttle_core.http import Decision, EnvironHeaders, RequestView, published
from throttle_django.signals import request_refused

if TYPE_CHECKING:
    from throttle_core.http import RequestLimiter, ViewLimit
    from throttle_django.conf import Configuration

log = logging.getLogger("throttle_django")

_tuple_new = tuple.__new__

DECIDED = "_throttle_decided"
"""The request attribute naming the view limits already decided for it (by the middleware or
an outer decorator), so no limit is counted twice for one request."""

GLOBAL_DECIDED = "_throttle_global_decided"
"""The request attribute set by the middleware: the global limits were decided for it."""


class ThrottledRequest(HttpRequest):
    """The type of a request that `RateLimitMiddleware` or a `@limit` decided for:
    `request.throttle` is its `Decision`, or None when no limit applied. Annotate a view with
    it (`def search(request: ThrottledRequest)`) and type checkers know `request.throttle`;
    at run time the request is Django's own (`decision_of(request)` reads it from any request)."""

    throttle: Decision | None


def decision_of(request: HttpRequest) -> Decision | None:
    """The `Decision` taken for `request` (what `request.throttle` holds), typed: None when no
    limit applied, and for a request no limit was asked about."""
    found = getattr(request, "throttle", None)
    return found if isinstance(found, Decision) else None


def publish(request: HttpRequest, taken: Decision) -> None:
    """Show `taken` to the view as `request.throttle` (None when no limit applied)."""
    request.throttle = published(taken)  # type: ignore[attr-defined]


def user_id(request: HttpRequest) -> str | None:
    """The primary key of the authenticated user (`request.user`, as Django's
    `AuthenticationMiddleware` or DRF's authenticators set it), None for anonymous requests."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return str(user.pk)


async def auser_id(request: HttpRequest) -> str | None:
    """`user_id` without blocking the event loop: through `request.auser()` when the
    `AuthenticationMiddleware` set it."""
    auser = getattr(request, "auser", None)
    if auser is None:
        return user_id(request)
    user = await auser()
    return str(user.pk) if user.is_authenticated else None


def request_view(
    request: HttpRequest, limiter: RequestLimiter, *, is_async: bool = False, user: bool = True
) -> RequestView:
    """The `RequestView` of `request`: its method, `path`, `REMOTE_ADDR` and headers, and
    (unless `user` is False: no limit that may apply counts by user) a lookup of its user
    that runs only when a matched rule counts by user, so the session and the user are read
    only then. Built as the tuple it is, as `rate_limit` builds results."""
    lookup = partial(auser_id if is_async else user_id, request) if user else None
    meta = request.META
    return _tuple_new(
        RequestView,
        (
            request.method or "GET",
            request.path,
            meta.get("REMOTE_ADDR"),
            EnvironHeaders(meta),
            lookup,
            request,
        ),
    )


def problem_response(decision: Decision) -> HttpResponse:
    """The default refusal: 429 (or 503) with the problem+json body, `Cache-Control:
    no-store`, `Retry-After` and the rate-limit headers."""
    response = HttpResponse(decision.body(), status=decision.status or 429)
    for name, value in decision.response_headers():
        response[name] = value
    return response


class _Lower(dict[str, str]):
    """Header names in lower case, each lowered on first use."""

    def __missing__(self, name: str) -> str:
        lower = self[name] = name.lower()
        return lower


_LOWER = _Lower()


def add_headers(response: HttpResponseBase, decision: Decision | None) -> None:
    """Add the rate-limit headers of `decision` to `response`, leaving alone any header the
    view set itself; `Retry-After` only on a refusal (a `block=False` limit may have refused
    a request the view then answered). The pairs go straight into the response's header
    store: the request side rendered them (ASCII, no line breaks), and Django checking each
    again cost a third of the middleware's time (`make bench`, Django workload)."""
    if decision is None or not decision.headers:
        return
    refusal = response.status_code in (429, 503)
    store = getattr(response.headers, "_store", None)
    if type(store) is not dict:
        for name, value in decision.headers:
            if name not in response.headers and (refusal or name != "Retry-After"):
                response.headers[name] = value
        return
    for name, value in decision.headers:
        lower = _LOWER[name]
        if lower not in store and (refusal or lower != "retry-after"):
            store[lower] = (name, value)


def refusal(
    request: HttpRequest, decision: Decision, configuration: Configuration, sender: object
) -> HttpResponseBase:
    """The response refusing `request`: `THROTTLE["RESPONSE"]`'s, else the problem+json one,
    with the rate-limit headers; `request_refused` is sent for a 429."""
    if decision.status == 429:
        _send_refused(request, decision, sender)
    made = configuration.response
    if made is None:
        return problem_response(decision)
    response: HttpResponseBase
    if inspect.iscoroutinefunction(made):
        response = async_to_sync(made)(request, decision)
    else:
        response = made(request, decision)
    add_headers(response, decision)
    return response


async def arefusal(
    request: HttpRequest, decision: Decision, configuration: Configuration, sender: object
) -> HttpResponseBase:
    """`refusal` from async code: an async `RESPONSE` function is awaited."""
    if decision.status == 429:
        _send_refused(request, decision, sender)
    made = configuration.response
    if made is None:
        return problem_response(decision)
    response: Any = made(request, decision)
    if inspect.isawaitable(response):
        response = await response
    add_headers(response, decision)
    return response  # type: ignore[no-any-return]


def _send_refused(request: HttpRequest, decision: Decision, sender: object) -> None:
    for receiver, error in request_refused.send_robust(
        sender=sender, request=request, decision=decision
    ):
        if isinstance(error, Exception):
            log.error(
                "request_refused receiver %r raised", receiver, exc_info=(type(error), error, None)
            )


def decided(request: HttpRequest) -> Sequence[ViewLimit]:
    """The view limits already decided for `request`."""
    found: Sequence[ViewLimit] = getattr(request, DECIDED, ())
    return found


def mark_decided(request: HttpRequest, limits: Sequence[ViewLimit]) -> None:
    """Record that `limits` were decided for `request`."""
    if limits:
        setattr(request, DECIDED, (*decided(request), *limits))
