"""The request cycle: the decision before the view, the headers on every response a limit
covered whatever the view returned, 404s counted, refusals as problem+json or the app's own
429, `current_decision`, async views, and a failing storage (never a 500)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, stream_with_context

from tests.conftest import START
from tests.flask.apps import get, make_app, statuses
from tests.integrations.scenarios import UNAVAILABLE, BrokenStorage, problem
from throttle_core import InMemoryStorage
from throttle_core.http import Decision
from throttle_flask import RateLimitExceeded, StorageUnavailable

RESET = str(int(START) + 60)
LIMIT = {"policy": "fixed_window", "id": "api", "limit": 3, "interval": 60}


def test_every_kind_of_view_result_carries_the_headers() -> None:
    app, _ = make_app(LIMITS=[LIMIT], HEADERS="ietf")

    @app.get("/str")
    def text() -> str:
        return "text"

    @app.get("/tuple")
    def pair() -> tuple[str, int, dict[str, str]]:
        return "made", 201, {"X-Own": "1"}

    @app.get("/dict")
    def mapping() -> dict[str, int]:
        return {"n": 1}

    @app.get("/response")
    def response() -> Response:
        return Response("r", headers={"RateLimit": "mine"})

    @app.get("/stream")
    def stream() -> Response:
        def numbers() -> Iterator[str]:
            yield from ("0", "1", "2")

        return Response(stream_with_context(numbers()))

    client = app.test_client()
    answers = {path: get(client, path) for path in ("/str", "/tuple", "/dict", "/response")}
    assert answers["/tuple"].status_code == 201
    assert answers["/tuple"].headers["X-Own"] == "1"
    assert answers["/str"].headers["RateLimit"] == '"api";r=2;t=60'
    assert answers["/tuple"].headers["RateLimit"] == '"api";r=1;t=60'
    assert answers["/dict"].headers["RateLimit"] == '"api";r=0;t=60'
    assert answers["/dict"].json == {"n": 1}
    refused = answers["/response"]
    assert refused.status_code == 429
    streamed = get(client, "/stream", peer="203.0.113.5")
    assert streamed.get_data() == b"012"
    assert streamed.headers["RateLimit"] == '"api";r=2;t=60'
    own = get(client, "/response", peer="203.0.113.6")
    assert own.headers.getlist("RateLimit") == ["mine"]
    assert own.headers["RateLimit-Policy"] == '"api";q=3;w=60'


def test_a_refusal_is_the_problem_json_429() -> None:
    app, _ = make_app(LIMITS=[LIMIT])
    app.add_url_rule("/", "hello", lambda: "hello")
    client = app.test_client()
    assert statuses(client) == [200, 200, 200]
    refused = get(client)
    assert refused.status_code == 429
    assert refused.get_data() == problem("api")
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.headers["Cache-Control"] == "no-store"
    assert refused.headers["Retry-After"] == "60"
    assert refused.headers["X-RateLimit-Reset"] == RESET
    assert all(len(refused.headers.getlist(name)) == 1 for name, _ in refused.headers)


def test_unmatched_routes_and_wrong_methods_count() -> None:
    app, _ = make_app(LIMITS=[LIMIT])
    app.add_url_rule("/", "hello", lambda: "hello")
    client = app.test_client()
    assert get(client, "/nowhere").status_code == 404
    assert client.delete("/", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 405
    missing = get(client, "/nowhere")
    assert missing.headers["RateLimit"] == '"api";r=0;t=60'
    assert get(client).status_code == 429


def test_an_error_handler_replaces_the_refusal_and_keeps_the_headers() -> None:
    app, _ = make_app(LIMITS=[{**LIMIT, "limit": 1}])
    app.add_url_rule("/", "hello", lambda: "hello")
    seen: list[Decision] = []

    @app.errorhandler(429)
    def too_many(error: RateLimitExceeded) -> tuple[dict[str, Any], int]:
        seen.append(error.decision)
        return {"error": "slow down", "wait": error.decision.retry_after}, 429

    client = app.test_client()
    get(client)
    refused = get(client)
    assert refused.status_code == 429
    assert refused.json == {"error": "slow down", "wait": 60}
    assert refused.headers["Retry-After"] == "60"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["Content-Type"] == "application/json"
    assert seen[0].violated == ("api",)


def test_an_exception_class_handler_sees_the_decision() -> None:
    app, _ = make_app(LIMITS=[{**LIMIT, "limit": 1}], HEADERS="none")
    app.add_url_rule("/", "hello", lambda: "hello")
    app.register_error_handler(RateLimitExceeded, lambda e: (f"wait {e.decision.retry_after}", 429))
    client = app.test_client()
    get(client)
    refused = get(client)
    assert refused.get_data() == b"wait 60"
    assert refused.headers["Retry-After"] == "60"
    assert "RateLimit" not in refused.headers


def test_current_decision() -> None:
    app, throttle = make_app(RULES=[{"limit": LIMIT, "paths": ["^/limited"]}])
    seen: list[Decision | None] = []

    @app.get("/limited")
    def limited() -> str:
        seen.append(throttle.current_decision)
        return "limited"

    @app.get("/free")
    def free() -> str:
        seen.append(throttle.current_decision)
        return "free"

    client = app.test_client()
    get(client, "/limited")
    get(client, "/free")
    assert throttle.current_decision is None
    decision, nothing = seen
    assert decision is not None
    assert decision.allowed
    assert decision.rate_limit is not None
    assert decision.rate_limit.remaining == 2
    assert nothing is None
    with app.test_request_context("/"):
        assert throttle.current_decision is None


def test_async_views_are_limited() -> None:
    app, throttle = make_app(LIMITS=[LIMIT], HEADERS="ietf")

    @app.get("/")
    @throttle.limit("1/minute", id="view")
    async def hello() -> str:
        return "hello"

    client = app.test_client()
    first = get(client)
    assert first.get_data() == b"hello"
    assert first.headers["RateLimit"] == '"api";r=2;t=60, "view";r=0;t=60'
    assert get(client).get_data() == problem("view")


class GarbageStorage(InMemoryStorage):
    """A storage whose consume answers nonsense."""

    def consume(self, *args: Any, **kwargs: Any) -> Any:
        return "not a result"


@pytest.mark.parametrize("storage", [BrokenStorage, GarbageStorage])
def test_a_failing_storage_fails_open_and_logs(
    storage: type[InMemoryStorage], caplog: pytest.LogCaptureFixture
) -> None:
    app, throttle = make_app(LIMITS=[LIMIT], STORAGE=storage())
    seen: list[object] = []

    @app.get("/")
    def hello() -> str:
        seen.append(throttle.current_decision)
        return "hello"

    client = app.test_client()
    with caplog.at_level(logging.WARNING, "throttle_core.http"):
        responses = [get(client) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert "RateLimit" not in responses[0].headers
    assert seen == [None, None, None]
    assert "rate-limit storage failed; letting the request through" in caplog.text


@pytest.mark.parametrize("storage", [BrokenStorage, GarbageStorage])
def test_a_failing_storage_fails_closed_with_503(storage: type[InMemoryStorage]) -> None:
    app, _ = make_app(LIMITS=[LIMIT], STORAGE=storage(), FAIL_OPEN=False)
    app.add_url_rule("/", "hello", lambda: "hello")
    answer = get(app.test_client())
    assert answer.status_code == 503
    assert answer.get_data() == UNAVAILABLE
    assert answer.headers["Content-Type"] == "application/problem+json"


def test_a_503_handler_sees_storage_unavailable() -> None:
    app, _ = make_app(LIMITS=[LIMIT], STORAGE=BrokenStorage(), FAIL_OPEN=False)
    app.add_url_rule("/", "hello", lambda: "hello")
    app.register_error_handler(StorageUnavailable, lambda e: ("down", 503))
    assert get(app.test_client()).get_data() == b"down"


def test_deduct_when_with_a_failing_storage_never_500s() -> None:
    app, throttle = make_app(STORAGE=BrokenStorage())

    @app.post("/login")
    @throttle.limit("1/minute", deduct_when=lambda response: response.status_code >= 400)
    def login() -> tuple[str, int]:
        return "no", 401

    client = app.test_client()
    answers = [client.post("/login").status_code for _ in range(3)]
    assert answers == [401, 401, 401]


def test_rate_limit_exceeded_is_werkzeugs_too_many_requests() -> None:
    from werkzeug.exceptions import ServiceUnavailable, TooManyRequests

    assert issubclass(RateLimitExceeded, TooManyRequests)
    assert issubclass(StorageUnavailable, ServiceUnavailable)
    decision = Decision(429, (("Retry-After", "5"),), None, ("api",), 5)
    response = RateLimitExceeded(decision).get_response()
    assert response.status_code == 429
    assert json.loads(response.get_data())["violated-policies"] == ["api"]
    assert response.headers["Retry-After"] == "5"


def test_endpoints_no_limit_covers_never_reach_the_storage() -> None:
    app, throttle = make_app(
        RULES=[{"limit": "1/minute", "paths": ["^/api"]}], STORAGE=BrokenStorage(), FAIL_OPEN=False
    )
    app.add_url_rule("/", "hello", lambda: "hello")
    app.add_url_rule("/health", "health", throttle.exempt(lambda: "ok"))
    client = app.test_client()
    assert [get(client, path).status_code for path in ("/", "/health", "/api")] == [200, 200, 503]


def test_a_flask_app_without_the_extension_is_untouched() -> None:
    app = Flask(__name__)
    app.add_url_rule("/", "hello", lambda: "hello")
    assert "RateLimit" not in app.test_client().get("/").headers
