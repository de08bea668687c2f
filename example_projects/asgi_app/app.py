"""A small FastAPI app rate limited by `RateLimitMiddleware`.

Storage is in memory unless `THROTTLE_STORAGE_URL` names another (`redis://127.0.0.1:6379/0`,
`postgresql://…`); `THROTTLE_TRUSTED_PROXIES` lists the proxies (comma-separated addresses or
networks) whose `X-Forwarded-For` is believed. Run it with
`uvicorn example_projects.asgi_app.app:app`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI
from starlette.middleware import Middleware
from starlette.responses import StreamingResponse

from throttle_asgi import (
    RateLimit,
    RateLimitMiddleware,
    RateLimitRejected,
    Rule,
    exempt,
    rejection_handler,
)

STORAGE = os.environ.get("THROTTLE_STORAGE_URL", "memory://")
TRUSTED = [p for p in os.environ.get("THROTTLE_TRUSTED_PROXIES", "").split(",") if p.strip()]
LIMIT = "5/minute"
"""The default limit of every request, per client address."""

app = FastAPI(
    title="throttle-suite ASGI example",
    middleware=[
        Middleware(
            RateLimitMiddleware,
            limits=[LIMIT],
            rules=[Rule("3/minute", paths=[r"^/login$"], methods=["POST"], id="login")],
            storage=STORAGE,
            trusted_proxies=TRUSTED,
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


@app.get("/search", dependencies=[Depends(RateLimit("2/minute", storage=STORAGE))])
async def search(q: str = "") -> dict[str, str]:
    return {"query": q}


@app.get("/health")
@exempt
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/stream")
async def stream() -> StreamingResponse:
    async def numbers() -> AsyncIterator[bytes]:
        for n in range(3):
            yield f"{n}\n".encode()
            await asyncio.sleep(0)

    return StreamingResponse(numbers(), media_type="text/plain")
