"""`@limit` and `@exempt` for function views (sync and async) and class-based views.

A view's limits are read by `RateLimitMiddleware` from the view the request resolves to, and
decided with the global limits as one compound decision. Without the middleware (or for a
view the middleware did not route to, such as a view called from another) the decorator
decides by itself and adds the headers itself; a limit is never counted twice for one
request. A view's limit counts per view, its counter scoped by the view's `module.qualname`
(for a class-based view the class's, however it was decorated), unless it has an `id`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from throttle_core.errors import ConfigError
from throttle_core.http import (
    GLOBAL,
    PASS,
    Decision,
    RequestLimiter,
    RequestView,
    ViewLimitOptions,
    ViewLimits,
)
from throttle_core.http.limiter import USER_KEYS
from throttle_core.http.views import LimitFunction, LimitValue, ViewLimit
from throttle_django import conf
from throttle_django.decisions import (
    add_headers,
    arefusal,
    decided,
    decision_of,
    mark_decided,
    publish,
    refusal,
    request_view,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

V = TypeVar("V")

LIMITS = "throttle_limits"
"""The attribute holding the limits declared on a view function or class (outermost first)."""
EXEMPT = "throttle_exempt"
"""The attribute marking a view function or class `exempt`."""
_WRAPPER = "_throttle_wrapper"
_DISPATCH = "_throttle_dispatch"

VIEWS_KEPT = 1024
"""Views whose limits the middleware keeps worked out (the least recent evicted beyond)."""


class DjangoLimit(ViewLimit):
    """A `ViewLimit` declared with `@limit`: `block=False` never refuses the request (the view
    reads `request.throttle.allowed` and decides)."""

    __slots__ = ("block",)

    def __init__(
        self,
        limit: LimitValue | LimitFunction,
        *,
        block: bool = True,
        **options: Unpack[ViewLimitOptions],
    ) -> None:
        super().__init__(limit, **options)
        if not isinstance(block, bool):
            raise ConfigError(f"block must be True or False, got {block!r}")
        self.block = block


def view_name(view: object) -> str:
    """The stable name a view's limits are scoped by: `module.qualname` of the function, or of
    the class for a class-based view (its `as_view()` function, its `dispatch` bound to an
    instance, or the class itself)."""
    if isinstance(view, partial):
        view = view.func
    owner = getattr(view, "__self__", None)
    if owner is not None:
        view = owner if isinstance(owner, type) else type(owner)
    view = getattr(view, "view_class", view)
    module = getattr(view, "__module__", None) or ""
    return f"{module}.{getattr(view, '__qualname__', type(view).__qualname__)}"


class Covered(NamedTuple):
    """What covers the requests routed to one view, worked out once per view: its scoping
    `name` and the `sender` of `request_refused`; `hard`, what one check decides before the
    view (the global limits unless it is exempt, and its limits that refuse), and `soft`, its
    `block=False` limits (None without any), which only report; `limits`, all of its limits,
    and the `keys` they count by."""

    name: str
    sender: object
    hard: ViewLimits = GLOBAL
    soft: ViewLimits | None = None
    limits: tuple[DjangoLimit, ...] = ()
    keys: frozenset[object] = frozenset()

    @classmethod
    def of(
        cls, name: str, sender: object, global_limits: bool, limits: Sequence[DjangoLimit]
    ) -> Covered:
        hard = tuple(item for item in limits if item.block)
        soft = tuple(item for item in limits if not item.block)
        keys = [item.key for item in limits]
        return cls(
            name,
            sender,
            ViewLimits.of(hard, name, global_limits),
            ViewLimits(soft, name, False) if soft else None,
            tuple(limits),
            frozenset(key if isinstance(key, str | None) else "callable" for key in keys),
        )

    @property
    def global_limits(self) -> bool:
        """Whether the global limits cover the view (not when it is exempt)."""
        return self.hard.global_limits

    def needs_user(self, limiter: RequestLimiter) -> bool:
        """Whether a limit that may apply counts by user (so the user must be looked up)."""
        if limiter.needs_user or not self.keys:
            return limiter.needs_user
        return any(
            key in USER_KEYS or (key is None and limiter.key in USER_KEYS) for key in self.keys
        )

    def check(self, limiter: RequestLimiter, view: RequestView) -> tuple[Decision, Decision]:
        """The decision of the limits that refuse, and the one describing every limit (the
        `block=False` ones are decided only when the others let the request through)."""
        hard = limiter.check(view, self.hard)
        if self.soft is None or hard.status is not None:
            return hard, hard
        return hard, limiter.combine(hard, limiter.check(view, self.soft))

    async def acheck(self, limiter: RequestLimiter, view: RequestView) -> tuple[Decision, Decision]:
        """`check` without blocking the event loop."""
        hard = await limiter.acheck(view, self.hard)
        if self.soft is None or hard.status is not None:
            return hard, hard
        return hard, limiter.combine(hard, await limiter.acheck(view, self.soft))


NOT_ROUTED = Covered("", None)
"""A request no URL matched (a 404): the global limits alone."""


def declared_limits(view: object) -> tuple[DjangoLimit, ...]:
    """The limits declared on `view` (a function, an `as_view()` function, or a class), each
    once, outermost first."""
    found: list[DjangoLimit] = []
    for target in (getattr(view, "view_class", None), view):
        for item in getattr(target, LIMITS, ()):
            if item not in found:
                found.append(item)
    return tuple(found)


def is_exempt(view: object) -> bool:
    """Whether `view` (or its class) is marked `exempt`."""
    return any(
        getattr(target, EXEMPT, False) is True
        for target in (view, getattr(view, "view_class", None))
    )


@lru_cache(maxsize=VIEWS_KEPT)
def covered(view: Callable[..., Any]) -> Covered:
    """What covers the requests routed to `view`."""
    sender = getattr(view, "view_class", view)
    return Covered.of(view_name(view), sender, not is_exempt(view), declared_limits(view))


def _own(request: HttpRequest, limits: Sequence[DjangoLimit], name: str) -> Covered | None:
    taken = decided(request)
    own = [item for item in limits if item not in taken]
    if not own:
        return None
    mark_decided(request, own)
    return Covered.of(name, None, False, own)


def decide_view(
    request: HttpRequest, limits: Sequence[DjangoLimit], name: str, sender: object
) -> HttpResponseBase | None:
    """Decide `limits` of the view named `name` for `request`, unless they were decided
    already; the refusal response, or None to go on (`request.throttle` is set)."""
    own = _own(request, limits, name)
    configuration = conf.configuration()
    limiter = configuration.limiter
    if own is None or not limiter.enabled:
        _published_once(request)
        return None
    hard, decision = own.check(limiter, request_view(request, limiter))
    combined = _publish(request, limiter, decision)
    return None if hard.allowed else refusal(request, combined, configuration, sender)


async def adecide_view(
    request: HttpRequest, limits: Sequence[DjangoLimit], name: str, sender: object
) -> HttpResponseBase | None:
    """`decide_view` without blocking the event loop."""
    own = _own(request, limits, name)
    configuration = conf.configuration()
    limiter = configuration.limiter
    if own is None or not limiter.enabled:
        _published_once(request)
        return None
    hard, decision = await own.acheck(limiter, request_view(request, limiter, is_async=True))
    combined = _publish(request, limiter, decision)
    return None if hard.allowed else await arefusal(request, combined, configuration, sender)


def _published_once(request: HttpRequest) -> None:
    """Give the view `request.throttle` (None) when nothing was decided, so a view typed
    `ThrottledRequest` may read it whether limiting is on or off."""
    if not hasattr(request, "throttle"):
        publish(request, PASS)


def _publish(request: HttpRequest, limiter: RequestLimiter, decision: Decision) -> Decision:
    combined = limiter.combine(decision_of(request), decision)
    publish(request, combined)
    return combined


def _limit_function(view: Callable[..., Any], declared: DjangoLimit) -> Callable[..., Any]:
    if view.__dict__.get(_WRAPPER) is view:
        inner: Callable[..., Any] = view.__wrapped__
        limits = (declared, *getattr(view, LIMITS, ()))
    else:
        inner, limits = view, (declared, *getattr(view, LIMITS, ()))
    name = view_name(inner)

    if iscoroutinefunction(inner):

        async def awrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            refused = await adecide_view(request, limits, name, wrapped)
            if refused is not None:
                return refused
            response = await inner(request, *args, **kwargs)
            add_headers(response, decision_of(request))
            return response

        wrapped: Callable[..., Any] = markcoroutinefunction(awrapped)
    else:

        def swrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            refused = decide_view(request, limits, name, wrapped)
            if refused is not None:
                return refused
            response = inner(request, *args, **kwargs)
            add_headers(response, decision_of(request))
            return response

        wrapped = swrapped
    functools.update_wrapper(wrapped, inner)
    setattr(wrapped, LIMITS, limits)
    setattr(wrapped, _WRAPPER, wrapped)
    return wrapped


def _limit_class(cls: type, declared: DjangoLimit) -> type:
    setattr(cls, LIMITS, (declared, *getattr(cls, LIMITS, ())))
    original = cls.__dict__.get("dispatch")
    if original is not None and getattr(original, _DISPATCH, False):
        return cls
    dispatch = cls.dispatch  # type: ignore[attr-defined]
    view_is_async = getattr(cls, "view_is_async", False)

    if view_is_async:

        async def adispatch(self: Any, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            kind = type(self)
            refused = await adecide_view(request, getattr(kind, LIMITS, ()), view_name(kind), kind)
            if refused is not None:
                return refused
            response = dispatch(self, request, *args, **kwargs)
            if hasattr(response, "__await__"):
                response = await response
            add_headers(response, decision_of(request))
            return response

        limited: Callable[..., Any] = adispatch
    else:

        def sdispatch(self: Any, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            kind = type(self)
            refused = decide_view(request, getattr(kind, LIMITS, ()), view_name(kind), kind)
            if refused is not None:
                return refused
            response = dispatch(self, request, *args, **kwargs)
            add_headers(response, decision_of(request))
            return response

        limited = sdispatch
    functools.update_wrapper(limited, dispatch)
    setattr(limited, _DISPATCH, True)
    cls.dispatch = limited  # type: ignore[attr-defined]
    return cls


def limit(
    limit: LimitValue | LimitFunction, *, block: bool = True, **options: Unpack[ViewLimitOptions]
) -> Callable[[V], V]:
    """Limit a view: a function view (sync or async; an async view stays a coroutine
    function), a class-based view (every method of it), or `dispatch` through
    `method_decorator(limit(...), name="dispatch")`. Stackable.

    `limit` is a limit string (`"10/minute"`, several separated by `;`), a config dict, or a
    callable taking the request and returning one (tiers by user); `key` what to count by
    (default: `THROTTLE["KEY"]`); `methods` the HTTP methods it covers (default: all);
    `cost` the tokens one request takes, an int or a callable taking the request; `id`
    names one counter shared by every view using it (default: a counter for this view).
    `block=False` never refuses: the view reads `request.throttle.allowed` and decides.
    Everything but the callables is checked here, at import time."""
    declared = DjangoLimit(limit, block=block, **options)

    def decorate(view: V) -> V:
        if isinstance(view, type):
            return _limit_class(view, declared)  # type: ignore[return-value]
        if not callable(view):
            raise ConfigError(f"@limit goes on a view function or class, not {view!r}")
        return _limit_function(view, declared)  # type: ignore[return-value]

    return decorate


def exempt(view: V) -> V:
    """Exempt a view (function or class) from the global limits (`THROTTLE`'s `LIMITS` and
    `RULES`); limits declared on it with `@limit` still apply."""
    if not callable(view):
        raise ConfigError(f"@exempt goes on a view function or class, not {view!r}")
    setattr(view, EXEMPT, True)
    return view
