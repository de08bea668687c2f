"""The Starlette hello-world app every ASGI contender wraps, and its unlimited baseline."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, world!")


def hello_app(middleware: Sequence[Middleware] = ()) -> Starlette:
    return Starlette(routes=[Route("/", hello)], middleware=list(middleware))
