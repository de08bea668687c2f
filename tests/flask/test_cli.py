"""`flask throttle limits | inspect ID KEY | reset ID [KEY]` through the app's CLI runner, on
the app's own storage (in memory and on Redis)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import redis
from flask import Blueprint, Flask

from tests.flask.apps import get, make_app, post
from tests.redis_support import delete_keys
from throttle_flask import Throttle


def example(**config: Any) -> tuple[Flask, Throttle]:
    app, throttle = make_app(
        LIMITS="100/hour",
        RULES=[
            {"limit": "5/minute", "paths": ["^/login"], "methods": ["POST"], "id": "login"},
            {"exempt": True, "paths": ["^/static/"]},
        ],
        **config,
    )

    @app.post("/login")
    @throttle.limit("3/minute", id="failed", deduct_when=lambda r: r.status_code >= 400)
    def login() -> tuple[str, int]:
        return "wrong", 401

    @app.get("/health")
    @throttle.exempt
    def health() -> str:
        return "ok"

    api = Blueprint("api", __name__, url_prefix="/api")
    throttle.limit({"policy": "fixed_window", "limit": 50, "interval": "1h", "id": "api"})(api)

    @api.get("/items")
    @throttle.limit(lambda: "10/minute", key="user")
    def items() -> str:
        return "items"

    app.register_blueprint(api)
    return app, throttle


def test_limits_lists_every_endpoint_with_its_limits() -> None:
    app, _ = example()
    output = app.test_cli_runner().invoke(args=["throttle", "limits"]).output
    blocks = output.split("\n\n")
    assert blocks[0].splitlines() == [
        "global limits (THROTTLE_LIMITS, THROTTLE_RULES), on the requests they match:",
        "  100-per-hour: sliding_window, 100 per hour; key ip; counter 100-per-hour~3d04c453a2",
        "  login: sliding_window, 5 per minute; key ip; methods POST; paths ^/login; counter login",
        "  exempt: ^/static/",
    ]
    assert blocks[1].splitlines() == [
        "api.items  GET /api/items (global limits)",
        "  api: fixed_window, 50 per hour; key ip; one counter for blueprint:api; counter api",
        "  a limit from a function, per request; key user",
    ]
    assert blocks[2] == "health  GET /health (exempt)"
    assert blocks[3].splitlines() == [
        "login  POST /login (global limits)",
        "  failed: sliding_window, 3 per minute; key ip; counted after the response when "
        "deduct_when holds; counter failed",
    ]


def test_inspect_and_reset_one_counter() -> None:
    app, _ = example()
    client, runner = app.test_client(), app.test_cli_runner()
    for _ in range(2):
        post(client, "/login", peer="203.0.113.7")
    report = runner.invoke(args=["throttle", "inspect", "failed", "203.0.113.7", "--json"])
    found = json.loads(report.output)
    assert (found["state_id"], found["policy"], found["remaining"]) == (
        "failed:203.0.113.7",
        "sliding_window",
        1,
    )
    text = runner.invoke(args=["throttle", "inspect", "login", "203.0.113.7"]).output
    assert "remaining   3 of 5 now" in text
    reset = runner.invoke(args=["throttle", "reset", "failed", "203.0.113.7"])
    assert (
        reset.output
        == "reset failed:203.0.113.7: its state is deleted, the counter is full again\n"
    )
    again = runner.invoke(args=["throttle", "reset", "failed", "203.0.113.7", "--json"])
    assert json.loads(again.output) == {"state_id": "failed:203.0.113.7", "deleted": False}
    after = json.loads(
        runner.invoke(args=["throttle", "inspect", "failed", "203.0.113.7", "--json"]).output
    )
    assert after["remaining"] == 3
    unknown = runner.invoke(args=["throttle", "inspect", "nope", "203.0.113.7"]).output
    assert "no limit of this app has the id 'nope'" in unknown


@pytest.mark.redis
def test_reset_on_redis_lets_the_client_in_again(redis_url: str) -> None:
    prefix = f"throttle-flask-{uuid.uuid4().hex[:8]}:"
    app, _ = example(STORAGE=f"{redis_url}?prefix={prefix}")
    try:
        client, runner = app.test_client(), app.test_cli_runner()
        answers = [post(client, "/login").status_code for _ in range(4)]
        assert answers == [401, 401, 401, 429]
        report = json.loads(
            runner.invoke(args=["throttle", "inspect", "failed", "198.51.100.7", "--json"]).output
        )
        assert report["remaining"] == 0
        runner.invoke(args=["throttle", "reset", "failed", "198.51.100.7"])
        assert post(client, "/login").status_code == 401
        assert get(client, "/health").status_code == 200
    finally:
        delete_keys(redis.Redis.from_url(redis_url), prefix)
