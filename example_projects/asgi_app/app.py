"""A small FastAPI app rate limited by `RateLimitMiddleware`.

Settings come from the environment: `THROTTLE_STORAGE_URL` (default `memory://`; e.g.
`redis://127.0.0.1:6379/0` or `postgresql://…`), `THROTTLE_TRUSTED_PROXIES` (comma-separated
addresses or networks whose `X-Forwarded-For` is believed) and `THROTTLE_LIMIT` (the limit of
every request per client, default `5/minute`). Run it with
`uvicorn example_projects.asgi_app.app:app`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Sequence

from fastapi import Depends, FastAPI
from starlette.middleware import Middleware
from starlette.responses import StreamingResponse

from throttle_asgi import (
    RateLimitMiddleware,
    RateLimitRejected,
    RouteLimit,
    Rule,
    exempt,
    rejection_handler,
)
from throttle_core import Clock

STORAGE = os.environ.get("THROTTLE_STORAGE_URL", "memory://")
TRUSTED = [p for p in os.environ.get("THROTTLE_TRUSTED_PROXIES", "").split(",") if p.strip()]
LIMIT = os.environ.get("THROTTLE_LIMIT", "5/minute")


def create_app(
    storage: str = STORAGE,
    *,
    trusted_proxies: Sequence[str] = TRUSTED,
    limit: str = LIMIT,
    clock: Clock | None = None,
) -> FastAPI:
    """The example app: `limit` on every request, 3/minute on `POST /login`, 2/minute on
    `/search` (a route dependency), `/health` exempt (it names the worker process that
    answered), `/stream` streaming."""
    app = FastAPI(
        title="throttle-suite ASGI example",
        middleware=[
            Middleware(
                RateLimitMiddleware,
                limits=[limit],
                rules=[Rule("3/minute", paths=[r"^/login$"], methods=["POST"], id="login")],
                storage=storage,
                trusted_proxies=trusted_proxies,
                clock=clock,
            )
        ],
        exception_handlers={RateLimitRejected: rejection_handler},
    )

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"hello": "world"}

    @app.post("/login")
    async def login() -> dict[str, bool]:
        return {"logged_in": True}

    search_limit = RouteLimit("2/minute", storage=storage, clock=clock)

    @app.get("/search", dependencies=[Depends(search_limit)])
    async def search(q: str = "") -> dict[str, str]:
        return {"query": q}

    @app.get("/health")
    @exempt
    async def health() -> dict[str, object]:
        return {"status": "ok", "worker": os.getpid()}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def numbers() -> AsyncIterator[bytes]:
            for n in range(3):
                yield f"{n}\n".encode()
                await asyncio.sleep(0)

        return StreamingResponse(numbers(), media_type="text/plain")

    return app


app = create_app()
