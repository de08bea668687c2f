"""From an ASGI scope to the request side's `RequestView`, and headers back onto responses."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import HTTPConnection, Request
from starlette.types import Message, Scope, Send

from throttle_core.http import WEBSOCKET, Headers, RequestView

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


def request_view(scope: Scope) -> RequestView:
    """The `RequestView` of an HTTP or WebSocket scope; callable keys get a Starlette `Request`
    (an `HTTPConnection` for a WebSocket) that cannot read the body."""
    client = scope.get("client")
    http = scope["type"] == "http"
    return RequestView(
        scope["method"] if http else WEBSOCKET,
        scope["path"],
        client[0] if client else None,
        Headers(scope.get("headers", ())),
        user_id(scope),
        Request(scope) if http else HTTPConnection(scope),
    )


_NAMES: dict[str, bytes] = {}
"""Header names as ASGI wants them (lower-case latin-1 bytes), encoded once each."""


def _name(name: str) -> bytes:
    encoded = _NAMES.get(name)
    if encoded is None:
        encoded = _NAMES[name] = name.lower().encode("latin-1")
    return encoded


def with_headers(send: Send, headers: Sequence[tuple[str, str]]) -> Send:
    """`send` that adds `headers` to the response start (or the WebSocket accept), leaving alone
    any header the application set itself; every other message passes untouched."""
    if not headers:
        return send
    extra = [(_name(name), value.encode("latin-1")) for name, value in headers]

    async def send_with_headers(message: Message) -> None:
        if message["type"] in _HEADED:
            own = list(message.get("headers") or ())
            present = {name.lower() for name, _ in own}
            own += [pair for pair in extra if pair[0] not in present]
            message = {**message, "headers": own}
        await send(message)

    return send_with_headers
