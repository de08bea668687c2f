"""A small FastAPI app rate limited by `RateLimitMiddleware`.

Its settings come from the environment variables every example project reads (see
`example_projects.environment`): `THROTTLE_STORAGE_URL` (default: in memory; e.g.
`redis://127.0.0.1:6379/0` or `postgresql://…`), `THROTTLE_FALLBACK_URL` and
`THROTTLE_COOLDOWN` (a `ResilientStorage` in front of it), `THROTTLE_LIMIT` (the limit of
every request per client, default `5/minute`) and `THROTTLE_POLICY` (its policy, default
`sliding_window`), `THROTTLE_RULES` (a JSON list of rules; default: 3/minute on
`POST /login`), `THROTTLE_HEADERS` (default `ietf,legacy`), `THROTTLE_FAIL_OPEN` (default
`true`; `false` answers 503 while the storage is down), `THROTTLE_TRUSTED_PROXIES`
(comma-separated addresses or networks whose proxy header is believed),
`THROTTLE_PROXY_HEADER` and `THROTTLE_KEY`. Run it with
`uvicorn example_projects.asgi_app.app:app`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Mapping
from typing import Any

from fastapi import Depends, FastAPI
from starlette.middleware import Middleware
from starlette.responses import StreamingResponse

from example_projects.environment import throttle_settings
from throttle_asgi import (
    RateLimitMiddleware,
    RateLimitRejected,
    RouteLimit,
    Rule,
    exempt,
    rejection_handler,
)
from throttle_core import Clock

LOGIN_RULE = {"limit": "3/minute", "paths": [r"^/login$"], "methods": ["POST"], "id": "login"}


def create_app(settings: Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The example app with `settings` in the shared upper-case schema (default: the
    environment variables', `throttle_settings()`): its limits on every request, 3/minute on
    `POST /login` unless `RULES` says otherwise, 2/minute on `/search` (a route dependency),
    `/health` exempt; `/` and `/health` name the worker process that answered, `/stream`
    streams."""
    settings = dict(throttle_settings() if settings is None else settings)
    rules = settings.pop("RULES", [LOGIN_RULE])
    options = {name.lower(): value for name, value in settings.items()}
    app = FastAPI(
        title="throttle-suite ASGI example",
        middleware=[
            Middleware(
                RateLimitMiddleware,
                rules=[Rule(**rule) for rule in rules],
                clock=clock,
                **options,
            )
        ],
        exception_handlers={RateLimitRejected: rejection_handler},
    )

    @app.get("/")
    async def index() -> dict[str, object]:
        return {"hello": "world", "worker": os.getpid()}

    @app.post("/login")
    async def login() -> dict[str, bool]:
        return {"logged_in": True}

    search_limit = RouteLimit("2/minute", storage=settings.get("STORAGE"), clock=clock)

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

    # Starlette builds its middleware at the first request: build it now, so that a bad
    # setting stops the server at start-up instead of failing every request.
    app.middleware_stack = app.build_middleware_stack()
    return app


app = create_app()
