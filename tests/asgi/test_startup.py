"""Bad options given as `Middleware(RateLimitMiddleware, ...)` fail the app's start-up: Starlette
builds its middleware stack at the lifespan start-up, and the middleware answers it with
`lifespan.startup.failed`, so even uvicorn's default `lifespan="auto"` stops at once rather
than serving 500s."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from throttle_asgi import RateLimitMiddleware
from throttle_core import ConfigError

BAD = Middleware(RateLimitMiddleware, limits=["100 per fortnight"])


async def hello(request: object) -> PlainTextResponse:
    return PlainTextResponse("hello")


@pytest.mark.parametrize("kind", [Starlette, FastAPI])
def test_bad_options_fail_the_lifespan_start_up(kind: type[Starlette]) -> None:
    app = kind(routes=[Route("/", hello)], middleware=[BAD])
    expected = r"RateLimitMiddleware: .*'fortnight' is not a duration"
    with pytest.raises(ConfigError, match=expected), TestClient(app):
        pass
    good = kind(routes=[Route("/", hello)], middleware=[Middleware(RateLimitMiddleware)])
    with TestClient(good) as client:
        assert client.get("/").status_code == 200


class Subclassed(RateLimitMiddleware):
    def __init__(self, app: ASGIApp, /, **options: Any) -> None:
        super().__init__(app, **options)


def test_a_subclass_fails_the_start_up_the_same_way() -> None:
    app = Starlette(
        routes=[Route("/", hello)], middleware=[Middleware(Subclassed, limits=["1 per fortnight"])]
    )
    with pytest.raises(ConfigError, match=r"RateLimitMiddleware: .*'fortnight'"), TestClient(app):
        pass
    with pytest.raises(ConfigError, match=r"^period of limit .*fortnight"):
        Subclassed(Starlette(), limits=["1 per fortnight"])


async def test_uvicorn_in_its_default_lifespan_mode_refuses_to_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Starlette(routes=[Route("/", hello)], middleware=[BAD])
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="auto", log_config=None)
    server = uvicorn.Server(config)
    watchdog = asyncio.get_running_loop().call_later(20, setattr, server, "should_exit", True)
    with caplog.at_level(logging.INFO, logger="uvicorn.error"), pytest.raises(SystemExit) as exit:
        await server.serve()
    watchdog.cancel()
    assert exit.value.code == 3
    assert not server.started
    assert "'fortnight' is not a duration" in caplog.text
    assert "Application startup failed" in caplog.text
    assert "lifespan' protocol appears unsupported" not in caplog.text


def test_direct_construction_still_raises() -> None:
    with pytest.raises(ConfigError, match="'fortnight' is not a duration"):
        RateLimitMiddleware(Starlette(), limits=["100 per fortnight"])
