"""The ASGI driver: the kit's app in FastAPI, `RateLimitMiddleware` configured from the
settings (through the shared schema) and `RouteLimit` dependencies for the view limits, called
through httpx's ASGI transport."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import Depends, FastAPI
from fastapi.responses import PlainTextResponse
from starlette.middleware import Middleware

from tests.integrations.driver import Answer, AppSpec, Client
from throttle_asgi import (
    RateLimitMiddleware,
    RateLimitRejected,
    RouteLimit,
    exempt,
    rejection_handler,
)
from throttle_core.http import Options, read_settings


def route_limits(options: Options, limits: list[dict[str, Any]]) -> list[Any]:
    """The dependencies for one route's limits, on the middleware's storage and options."""
    return [
        Depends(RouteLimit(**{"key": options.key, **limit}, options=options)) for limit in limits
    ]


def build(spec: AppSpec) -> FastAPI:
    options = read_settings(spec.settings).options
    app = FastAPI(
        exception_handlers={RateLimitRejected: rejection_handler},
        middleware=[Middleware(RateLimitMiddleware, **options.keywords())],
    )

    async def hello() -> PlainTextResponse:
        return PlainTextResponse("hello")

    @exempt
    async def health() -> PlainTextResponse:
        return PlainTextResponse("ok")

    app.add_api_route("/", hello, methods=["GET", "POST"])
    app.add_api_route("/login", hello, methods=["GET", "POST"])
    app.add_api_route("/health", health, methods=["GET"])
    for view in ("a", "b"):
        dependencies = route_limits(options, list(spec.views.get(view, [])))
        app.add_api_route(f"/{view}", hello, methods=["GET"], dependencies=dependencies)
    return app


class ASGIClient(Client):
    """Requests through httpx's ASGI transport, one event loop for the client's life."""

    def __init__(self, app: FastAPI, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop

    def send(self, method: str, path: str, peer: str, headers: dict[str, str]) -> Answer:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=(peer, 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                return await http.request(method, path, headers=headers)

        answer = self.loop.run_until_complete(send())
        return answer.status_code, answer.headers.multi_items(), answer.content


class ASGIDriver:
    name = "asgi"
    compound_view_limits = False

    @contextmanager
    def client(self, app: AppSpec) -> Iterator[ASGIClient]:
        loop = asyncio.new_event_loop()
        try:
            yield ASGIClient(build(app), loop)
        finally:
            loop.close()
