"""A small Starlette app for the middleware tests: plain, streaming, WebSocket and exempt routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket

from throttle_asgi import RateLimitMiddleware, exempt

CHUNKS = [f"chunk {n}\n".encode() for n in range(5)]
PEER = ("198.51.100.1", 50000)


class Calls:
    """How many times the endpoints ran (a refused request must never reach them)."""

    count = 0


async def hello(request: Request) -> Response:
    Calls.count += 1
    return PlainTextResponse("hello")


async def stream(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for chunk in CHUNKS:
            yield chunk

    return StreamingResponse(chunks(), media_type="text/plain")


async def own_headers(request: Request) -> Response:
    return PlainTextResponse("mine", headers={"X-RateLimit-Limit": "mine"})


@exempt
async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hi " + await websocket.receive_text())
    await websocket.close()


ROUTES = [
    Route("/", hello, methods=["GET", "POST"]),
    Route("/login", hello, methods=["GET", "POST"]),
    Route("/stream", stream),
    Route("/own", own_headers),
    Route("/health", health),
    Mount("/sub", routes=[Route("/ping", health), Route("/pong", hello)]),
    WebSocketRoute("/ws", echo),
]


def limited(**options: Any) -> RateLimitMiddleware:
    """The test app wrapped directly: `RateLimitMiddleware(Starlette(...), ...)`."""
    return RateLimitMiddleware(Starlette(routes=ROUTES), **options)


def client(app: Any, peer: tuple[str, int] = PEER) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=peer)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")
