"""Flask apps for the tests: settings under THROTTLE_, a storage on a frozen clock so every
figure is exact, and requests from a chosen address through the test client."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import START
from throttle_core import FrozenClock, InMemoryStorage
from throttle_flask import Throttle

PEER = "198.51.100.7"


def make_app(throttle: Throttle | None = None, **config: Any) -> tuple[Flask, Throttle]:
    """An app with `THROTTLE_<name>` set for each keyword (a storage on a frozen clock at
    `START` unless `STORAGE` is given); `throttle` is initialised on it (a new one by
    default) before any route exists, as an application factory does."""
    app = Flask(__name__)
    config.setdefault("STORAGE", InMemoryStorage(clock=FrozenClock(START)))
    app.config.update({f"THROTTLE_{name}": value for name, value in config.items()})
    throttle = throttle or Throttle()
    throttle.init_app(app)
    return app, throttle


def get(client: FlaskClient, path: str = "/", peer: str = PEER, **options: Any) -> TestResponse:
    return client.get(path, environ_base={"REMOTE_ADDR": peer}, **options)


def post(client: FlaskClient, path: str = "/", peer: str = PEER, **options: Any) -> TestResponse:
    return client.post(path, environ_base={"REMOTE_ADDR": peer}, **options)


def statuses(client: FlaskClient, path: str = "/", count: int = 3, **options: Any) -> list[int]:
    return [get(client, path, **options).status_code for _ in range(count)]


def limited_route(
    app: Flask, throttle: Throttle, path: str, limit: Any, **keywords: Any
) -> FlaskClient:
    """`path` (its endpoint named after it, `hello` for `/`) answering `hello` under
    `@throttle.limit(limit, **keywords)`; the app's test client."""

    def hello() -> str:
        return "hello"

    endpoint = path.strip("/") or "hello"
    app.add_url_rule(path, endpoint, throttle.limit(limit, **keywords)(hello))
    return app.test_client()
