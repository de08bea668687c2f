"""Keys: what a rule counts requests by ("ip", "user", "header:NAME", "path", "method", or a
callable taking the framework's request, sync or async)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Generator
from typing import Any

from throttle_core.errors import ConfigError
from throttle_core.http.addresses import ClientAddress
from throttle_core.http.request import RequestView

KeyFunction = Callable[[Any], str | Awaitable[str | None] | None]
KeySpec = str | KeyFunction
Resolver = Callable[[RequestView], object]

KEY_NAMES = ("ip", "user", "user_or_ip", "header:NAME", "path", "method")


def key_name(spec: KeySpec) -> str:
    """A stable name for a key spec (a callable is named by its module and qualified name)."""
    if isinstance(spec, str):
        return spec
    return f"{getattr(spec, '__module__', '')}.{getattr(spec, '__qualname__', type(spec).__name__)}"


def check_key(spec: object) -> KeySpec:
    """`spec` if it names a key; `ConfigError` otherwise."""
    if callable(spec):
        return spec
    if isinstance(spec, str) and (
        spec in KEY_NAMES or (spec.startswith("header:") and spec[7:].strip())
    ):
        return spec
    raise ConfigError(f"key must be a callable or one of {', '.join(KEY_NAMES)}; got {spec!r}")


def resolver(spec: KeySpec, client: ClientAddress) -> Resolver:
    """The function giving a request's key for `spec`. Its result is a string, None (the rule
    does not apply to this request) or, for an async callable, an awaitable of either."""
    if callable(spec):
        return lambda view: spec(view.request)
    if spec == "ip":
        return lambda view: client(view.peer, view.headers)
    if spec in ("user", "user_or_ip"):
        return lambda view: user_key(view, client)
    if spec == "path":
        return lambda view: view.path
    if spec == "method":
        return lambda view: view.method
    name = check_key(spec)[7:].strip()  # type: ignore[index]
    return lambda view: view.headers.get(name)


def user_key(view: RequestView, client: ClientAddress) -> object:
    """`"user:<id>"` for an authenticated user, else the client address; the user is looked up
    here, only now (an async lookup gives an awaitable of the key)."""
    user = view.user
    if callable(user):
        found = user()
        if type(found) is not str and inspect.isawaitable(found):
            return _PendingUser(found, view, client)
        user = found
    return f"user:{user}" if user else client(view.peer, view.headers)


class _PendingUser:
    """The key of a request whose user is looked up asynchronously: awaiting it awaits the
    lookup; closing it (sync code that cannot wait) closes the lookup too."""

    __slots__ = ("client", "found", "view")

    def __init__(
        self, found: Awaitable[str | None], view: RequestView, client: ClientAddress
    ) -> None:
        self.found, self.view, self.client = found, view, client

    def __await__(self) -> Generator[Any, None, str]:
        user = yield from self.found.__await__()
        return f"user:{user}" if user else self.client(self.view.peer, self.view.headers)

    def close(self) -> None:
        close = getattr(self.found, "close", None)
        if close is not None:
            close()


def normalized_key(value: object) -> str | None:
    """A found key as a counter sees it: text without surrounding blanks; None (the rule does
    not apply) for None or blank text."""
    if value is None:
        return None
    text = value if type(value) is str else str(value)
    return text.strip() or None


def key_now(found: object) -> str | None:
    """A found key, from sync code: an async key function is refused clearly."""
    if type(found) is not str and inspect.isawaitable(found):
        close = getattr(found, "close", None)
        if close is not None:
            close()
        raise TypeError(
            "this key function is async (or the user lookup it needs); use it with an async "
            "framework or make it sync"
        )
    return normalized_key(found)


def resolve(find: Resolver, view: RequestView) -> str | None:
    """The key of `view`, from sync code; an async key function is refused clearly."""
    return key_now(find(view))


async def aresolve(find: Resolver, view: RequestView) -> str | None:
    """The key of `view`, awaiting an async key function."""
    value = find(view)
    if type(value) is not str and inspect.isawaitable(value):
        value = await value
    return normalized_key(value)
