"""From an ASGI scope to the request side's `RequestView`, and headers back onto responses."""

from __future__ import annotations

from functools import partial

from starlette.requests import HTTPConnection, Request
from starlette.types import Message, Scope, Send

from throttle_core.http import WEBSOCKET, Headers, RequestView
from throttle_core.http.request import NO_HEADERS

_tuple_new = tuple.__new__

_HEADED = frozenset({"http.response.start", "websocket.http.response.start", "websocket.accept"})


def user_id(scope: Scope) -> str | None:
    """The authenticated user's id from Starlette's `AuthenticationMiddleware` (`scope["user"]`):
    its `identity`, else its `display_name`; None for anonymous users or without one."""
    user = scope.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    for attribute in ("identity", "display_name"):
        try:
            value = getattr(user, attribute, None)
        except NotImplementedError:
            continue
        if value:
            return str(value)
    return None


def connection(scope: Scope) -> HTTPConnection:
    """The Starlette `Request` of an HTTP scope (that cannot read the body), or the
    `HTTPConnection` of a WebSocket one: what callable keys and `on_reject` are given."""
    return Request(scope) if scope["type"] == "http" else HTTPConnection(scope)


DECISION = "throttle.decision"
"""The scope key under which the middleware leaves its `Decision` for the route's own limits,
so that a response describes every limit that covered it."""


def request_view(
    scope: Scope, with_request: bool = True, with_user: bool = True, with_headers: bool = True
) -> RequestView:
    """The `RequestView` of an HTTP or WebSocket scope; with `with_request`, it carries the
    scope's `connection` for callable keys (building it costs, so callers that know no key
    needs it leave it out); with `with_user`, a lookup of `scope["user"]` that runs only if a
    matched rule counts by user; with `with_headers`, the request's headers (without, none:
    for callers that know no key reads them). Built as the tuple it is, as `rate_limit`
    builds results."""
    client = scope.get("client")
    return _tuple_new(
        RequestView,
        (
            scope["method"] if scope["type"] == "http" else WEBSOCKET,
            scope["path"],
            client[0] if client else None,
            Headers(scope.get("headers", [])) if with_headers else NO_HEADERS,
            partial(user_id, scope) if with_user else None,
            connection(scope) if with_request else None,
        ),
    )


class _Names(dict[str, bytes]):
    """Header names as ASGI wants them (lower-case latin-1 bytes), each encoded on first use."""

    def __missing__(self, name: str) -> bytes:
        encoded = self[name] = name.lower().encode("latin-1")
        return encoded


_NAMES = _Names()


def _headed(message: Message, headers: tuple[tuple[str, str], ...]) -> Message:
    """`message` with `headers` added where the application set none of that name. Plain
    loops rather than comprehensions: each comprehension is a call of its own on every
    response (Python 3.11)."""
    own = message.get("headers")
    present = set()
    if own:
        for name, _ in own:
            present.add(name.lower())
    added = []
    for name, value in headers:
        raw = _NAMES[name]
        if raw not in present:
            added.append((raw, value.encode("latin-1")))
    if type(own) is list:
        own += added
        return message
    return {**message, "headers": [*(own or ()), *added]}


def with_headers(send: Send, scope: Scope) -> Send:
    """`send` that adds the headers of the request's decision (`scope[DECISION]`, as it
    stands when the response starts: a route's own limits may have widened it to describe
    them too) to the response start or the WebSocket accept, leaving alone any header the
    application set itself (a list of headers is extended in place, as Starlette's own
    middleware do); every other message passes untouched."""

    async def send_with_headers(message: Message) -> None:
        if message["type"] in _HEADED:
            decision = scope.get(DECISION)
            if decision is not None and decision.headers:
                message = _headed(message, decision.headers)
        await send(message)

    return send_with_headers
