"""A small Flask app rate limited by `Throttle`.

Settings come from the same environment variables as the ASGI example:
`THROTTLE_STORAGE_URL` (default `memory://`; e.g. `redis://127.0.0.1:6379/0` or
`postgresql://…`), `THROTTLE_TRUSTED_PROXIES` (comma-separated addresses or networks whose
`X-Forwarded-For` is believed) and `THROTTLE_LIMIT` (the limit of every request per client,
default `5/minute`; empty: none). Run it with `gunicorn example_projects.flask_app.app:app`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

from flask import Blueprint, Flask, Response, request, stream_with_context

from throttle_core import Clock
from throttle_flask import Throttle

STORAGE = os.environ.get("THROTTLE_STORAGE_URL", "memory://")
TRUSTED = [p for p in os.environ.get("THROTTLE_TRUSTED_PROXIES", "").split(",") if p.strip()]
LIMIT = os.environ.get("THROTTLE_LIMIT", "5/minute")
PASSWORD = "demo"
"""The password `POST /login` accepts (`password=demo` in the form)."""


def failed(response: Response) -> bool:
    """A failed login: only those count against the login limit."""
    return response.status_code >= 400


def plan_limit() -> str:
    """The `/api` limit of the client's plan: `X-Plan: pro` gets more."""
    return "20/minute" if request.headers.get("X-Plan") == "pro" else "3/minute"


def create_app(
    storage: str = STORAGE,
    *,
    trusted_proxies: Sequence[str] = TRUSTED,
    limit: str = LIMIT,
    clock: Clock | None = None,
) -> Flask:
    """The example app: `limit` on every request; 3 failed logins a minute on `POST /login`
    (successful ones are not counted); the `/api` blueprint limited by plan (one counter for
    the whole blueprint); `/health` exempt (it names the worker process that answered);
    `/stream` streaming."""
    app = Flask(__name__)
    app.config.update(
        THROTTLE_LIMITS=[limit] if limit.strip() else [],
        THROTTLE_STORAGE=storage,
        THROTTLE_TRUSTED_PROXIES=trusted_proxies,
    )
    throttle = Throttle(app, clock=clock)

    @app.get("/")
    def index() -> dict[str, str]:
        return {"hello": "world"}

    @app.post("/login")
    @throttle.limit("3/minute", id="login", deduct_when=failed)
    def login() -> tuple[dict[str, bool], int]:
        if request.form.get("password") == PASSWORD:
            return {"logged_in": True}, 200
        return {"logged_in": False}, 401

    @app.get("/health")
    @throttle.exempt
    def health() -> dict[str, object]:
        return {"status": "ok", "worker": os.getpid()}

    @app.get("/stream")
    def stream() -> Response:
        def numbers() -> Iterator[str]:
            for n in range(3):
                yield f"{n}\n"

        return Response(stream_with_context(numbers()), mimetype="text/plain")

    api = Blueprint("api", __name__, url_prefix="/api")
    throttle.limit(plan_limit, id="api")(api)

    @api.get("/items")
    def items() -> dict[str, list[int]]:
        return {"items": [1, 2, 3]}

    @api.get("/items/<int:number>")
    def item(number: int) -> dict[str, int]:
        return {"item": number}

    app.register_blueprint(api)
    return app


app = create_app()
