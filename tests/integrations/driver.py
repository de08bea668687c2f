"""What a framework provides to run the integration scenarios: a `Driver` builds the kit's
app (`AppSpec`) with that framework and returns a `Client` sending requests through the
framework's real request cycle (a test client).

Every driver serves the same routes:

- `GET|POST /` and `GET|POST /login`: answer 200 `hello`;
- `GET /a` and `GET /b`: answer 200 `hello`, each carrying the view limits
  `AppSpec.views["a"]` / `["b"]` (the framework's own decorator or dependency, given each
  dict as its keywords: `limit`, and any of `key`, `methods`, `cost`, `id`);
- `GET /health`: answers 200 `ok`, marked with the framework's own exempt marker;
- any other path: the framework's own 404.

The throttle settings are `AppSpec.settings`, in the settings schema (upper-case keys, as in
Django's `THROTTLE` dict; Flask puts each under its `THROTTLE_` prefix). Their `STORAGE` is
always a storage object whose clock the scenario controls.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

PEER = "198.51.100.1"
"""The client address of a request unless a scenario says otherwise."""

VIEWS = ("a", "b")
"""The routes that carry view limits: `/a` and `/b`."""


@dataclass(frozen=True)
class AppSpec:
    """The app a scenario needs: throttle settings and each view's limits."""

    settings: Mapping[str, Any]
    views: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Response:
    """What came back: the status, the headers (names in lower case; a name sent twice keeps
    the first value and is listed in `repeated`), and the body bytes."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    repeated: frozenset[str] = frozenset()


Answer = tuple[int, Iterable[tuple[str, str]], bytes]
"""What a framework's test client returned: the status, the raw (name, value) header pairs
and the body."""


class Client(ABC):
    """Sends one request through the framework and returns its response: each framework's
    client only `send`s, through its own test client."""

    def request(
        self,
        method: str,
        path: str,
        *,
        peer: str = PEER,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        return response_from(*self.send(method, path, peer, dict(headers or {})))

    @abstractmethod
    def send(self, method: str, path: str, peer: str, headers: dict[str, str]) -> Answer:
        """Send the request from `peer` with `headers`; the status, header pairs and body."""


class Driver(Protocol):
    """One framework. `name` labels the test ids; `compound_view_limits` says whether global
    limits and a view's limits are one compound decision (a refusal by one takes nothing from
    the others): true for Django and Flask; FastAPI decides a route's dependencies after the
    middleware, so it is false there and the give-back scenario does not apply."""

    name: str
    compound_view_limits: bool

    def client(self, app: AppSpec) -> AbstractContextManager[Client]: ...


def response_from(status: int, pairs: Iterable[tuple[str, str]], body: bytes) -> Response:
    """A `Response` from the raw (name, value) pairs a framework's client returns."""
    headers: dict[str, str] = {}
    repeated = set()
    for name, value in pairs:
        lower = name.lower()
        if lower in headers:
            repeated.add(lower)
            continue
        headers[lower] = value
    return Response(status, headers, body, frozenset(repeated))
