"""What the request side sees of a request, whatever the framework: `RequestView` and `Headers`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, NamedTuple

HeaderPairs = Iterable[tuple[str, str]] | Iterable[tuple[bytes, bytes]] | Mapping[str, str]


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


class Headers:
    """Case-insensitive, multi-valued request headers over (name, value) pairs of `str` or of
    latin-1 `bytes` (ASGI's raw list is used as is, without copying), or over a mapping."""

    __slots__ = ("_pairs",)

    def __init__(self, pairs: HeaderPairs = ()) -> None:
        self._pairs: Iterable[tuple[str | bytes, str | bytes]] = (
            pairs if type(pairs) is list or not isinstance(pairs, Mapping) else list(pairs.items())
        )

    def get_all(self, name: str) -> list[str]:
        """Every value sent under `name`, in order (a header may be sent several times)."""
        wanted = name.lower()
        return [_text(value) for key, value in self._pairs if _text(key).lower() == wanted]

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value sent under `name`, or `default`."""
        wanted = name.lower()
        for key, value in self._pairs:
            if _text(key).lower() == wanted:
                return _text(value)
        return default

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __repr__(self) -> str:
        return f"Headers({[(_text(k), _text(v)) for k, v in self._pairs]!r})"


_SPECIAL = {"CONTENT_TYPE": "CONTENT_TYPE", "CONTENT_LENGTH": "CONTENT_LENGTH"}
_ENVIRON_NAMES: dict[str, str] = {}


def _environ_name(name: str) -> str:
    found = _ENVIRON_NAMES.get(name)
    if found is None:
        upper = name.upper().replace("-", "_")
        found = _ENVIRON_NAMES[name] = _SPECIAL.get(upper) or f"HTTP_{upper}"
    return found


class EnvironHeaders(Headers):
    """A request's headers read straight from its WSGI environ (Django's `request.META`,
    Flask's `request.environ`), with no copy per request and a dict lookup per header read.
    A header sent several times is one comma-joined value there, as WSGI servers and Django's
    ASGI handler join them."""

    __slots__ = ("environ",)

    def __init__(self, environ: Mapping[str, Any]) -> None:
        self.environ = environ

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self.environ.get(_environ_name(name))
        return default if value is None else str(value)

    def get_all(self, name: str) -> list[str]:
        value = self.get(name)
        return [] if value is None else [value]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _environ_name(name) in self.environ

    def __repr__(self) -> str:
        return f"EnvironHeaders({len(self.environ)} environ keys)"


WEBSOCKET = "WEBSOCKET"
"""The method of a WebSocket connection in a `RequestView`: only rules naming it apply."""


NO_HEADERS = Headers()

UserLookup = Callable[[], "str | Awaitable[str | None] | None"]
"""Finds the authenticated user's id (None for anonymous), sync or async; called only when a
rule that matched the request counts by user."""


class RequestView(NamedTuple):
    """One request as the rules see it. `peer` is the address of the direct client (the
    server's view, before any proxy header); `user` the authenticated user's id, None, or a
    `UserLookup` that finds it (so a session or database is read only when a matched rule's
    key needs the user); `request` the framework's own request object, handed to callable keys
    and callable limits and costs. An immutable named tuple: cheap to build on every request."""

    method: str
    path: str
    peer: str | None
    headers: Headers = NO_HEADERS
    user: str | UserLookup | None = None
    request: Any = None
