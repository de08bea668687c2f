"""A small Flask app rate limited by `Throttle`.

Its settings come from the environment variables every example project reads (see
`example_projects.environment`): `THROTTLE_STORAGE_URL` (default: in memory; e.g.
`redis://127.0.0.1:6379/0` or `postgresql://…`), `THROTTLE_FALLBACK_URL` and
`THROTTLE_COOLDOWN`, `THROTTLE_LIMIT` (the limit of every request per client, default
`5/minute`; empty: none) and `THROTTLE_POLICY`, `THROTTLE_RULES`, `THROTTLE_HEADERS`,
`THROTTLE_FAIL_OPEN`, `THROTTLE_TRUSTED_PROXIES` (comma-separated addresses or networks
whose proxy header is believed), `THROTTLE_PROXY_HEADER` and `THROTTLE_KEY`. Run it with
`gunicorn example_projects.flask_app.app:app`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

from flask import Blueprint, Flask, Response, request, stream_with_context

from example_projects.environment import throttle_settings
from throttle_core import Clock
from throttle_flask import Throttle

PASSWORD = "demo"
"""The password `POST /login` accepts (`password=demo` in the form)."""


def failed(response: Response) -> bool:
    """A failed login: only those count against the login limit."""
    return response.status_code >= 400


def plan_limit() -> str:
    """The `/api` limit of the client's plan: `X-Plan: pro` gets more."""
    return "20/minute" if request.headers.get("X-Plan") == "pro" else "3/minute"


def create_app(settings: Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """The example app with `settings` in the shared upper-case schema (default: the
    environment variables', `throttle_settings()`): its limits on every request; 3 failed
    logins a minute on `POST /login` (successful ones are not counted); the `/api` blueprint
    limited by plan (one counter for the whole blueprint); `/` and `/health` (exempt) name
    the worker process that answered; `/stream` streams."""
    settings = dict(throttle_settings() if settings is None else settings)
    app = Flask(__name__)
    app.config.update({f"THROTTLE_{name}": value for name, value in settings.items()})
    throttle = Throttle(app, clock=clock)

    @app.get("/")
    def index() -> dict[str, object]:
        return {"hello": "world", "worker": os.getpid()}

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
