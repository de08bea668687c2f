"""FastAPI: the `RouteLimit` route dependency, route exemption, and the example app."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends, FastAPI
from starlette.middleware import Middleware

from tests.asgi.apps import client
from tests.conftest import START
from throttle_asgi import (
    RateLimitMiddleware,
    RateLimitRejected,
    RouteLimit,
    exempt,
    rejection_handler,
)
from throttle_core import ConfigError, FrozenClock, InMemoryStorage
from throttle_core.http import read_settings


def api(limit: RouteLimit, *, handler: bool = True, **middleware: Any) -> FastAPI:
    app = FastAPI(
        exception_handlers={RateLimitRejected: rejection_handler} if handler else {},
        middleware=[Middleware(RateLimitMiddleware, **middleware)] if middleware else [],
    )

    @app.get("/a", dependencies=[Depends(limit)])
    async def a() -> dict[str, str]:
        return {"route": "a"}

    @app.get("/b/{item}", dependencies=[Depends(limit)])
    async def b(item: str) -> dict[str, str]:
        return {"route": item}

    @app.get("/health")
    @exempt
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def test_the_dependency_is_route_limit_alone() -> None:
    import throttle_asgi

    assert not hasattr(throttle_asgi, "RateLimit")


async def test_a_route_limit_counts_each_route_and_answers_problem_json() -> None:
    app = api(RouteLimit("2/minute", clock=FrozenClock(START)))
    async with client(app) as http:
        a = [await http.get("/a") for _ in range(3)]
        b = [await http.get(f"/b/{n}") for n in range(3)]
    assert [r.status_code for r in a] == [200, 200, 429]
    assert [r.status_code for r in b] == [200, 200, 429]
    assert a[0].json() == {"route": "a"}
    assert a[0].headers["RateLimit"] == '"2-per-minute";r=1;t=60'
    assert a[0].headers["X-RateLimit-Remaining"] == "1"
    refused = a[2]
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.headers["Retry-After"] == "60"
    assert refused.headers["RateLimit"] == '"2-per-minute";r=0;t=60'
    assert refused.json() == {
        "type": "https://iana.org/assignments/http-problem-types#quota-exceeded",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "Rate limit exceeded (2-per-minute); retry in 60 seconds.",
        "violated-policies": ["2-per-minute"],
        "retry_after": 60,
    }


async def test_an_id_shares_one_counter_between_routes() -> None:
    app = api(RouteLimit("2/minute", id="shared", clock=FrozenClock(START)))
    async with client(app) as http:
        statuses = [(await http.get(path)).status_code for path in ("/a", "/b/1", "/b/2", "/a")]
    assert statuses == [200, 200, 429, 429]


async def test_without_the_handler_fastapi_answers_detail_json_with_the_headers() -> None:
    app = api(RouteLimit("1/minute", key="user", clock=FrozenClock(START)), handler=False)
    async with client(app) as http:
        await http.get("/a")
        refused = await http.get("/a")
    assert refused.status_code == 429
    assert refused.json() == {"detail": "Rate limit exceeded (1-per-minute); retry in 60 seconds."}
    assert refused.headers["Retry-After"] == "60"
    assert refused.headers["X-RateLimit-Limit"] == "1"


class BrokenStorage(InMemoryStorage):
    async def aconsume(self, *args: Any) -> Any:
        raise ConnectionError("storage down")


@pytest.mark.parametrize(("fail_open", "status"), [(True, 200), (False, 503)])
async def test_a_failing_storage(fail_open: bool, status: int) -> None:
    app = api(RouteLimit("1/minute", storage=BrokenStorage(), fail_open=fail_open))
    async with client(app) as http:
        response = await http.get("/a")
    assert response.status_code == status


async def test_a_route_limit_takes_the_options_of_settings_but_their_limits() -> None:
    options = read_settings(
        {"LIMITS": ["1/minute"], "HEADERS": ["draft-7"], "FAIL_OPEN": False}
    ).options
    shared = RouteLimit("2/minute", options=options, clock=FrozenClock(START))
    assert shared.limiter.options.headers == ("draft-7",)
    assert shared.limiter.options.fail_open is False
    assert shared.limiter.options.limits == ()
    async with client(api(shared)) as http:
        answers = [await http.get("/a") for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert answers[0].headers["RateLimit"] == "limit=2, remaining=1, reset=60"
    assert "X-RateLimit-Remaining" not in answers[0].headers
    broken = RouteLimit("2/minute", options=options, storage=BrokenStorage(), fail_open=True)
    assert broken.limiter.options.fail_open is True
    async with client(api(broken)) as http:
        assert (await http.get("/a")).status_code == 200


def test_a_bad_lock_is_refused_when_the_dependency_is_made() -> None:
    with pytest.raises(ConfigError, match=r"lock must have acquire\(\) and release\(\), got 5"):
        RouteLimit("5/minute", lock=5)  # type: ignore[call-arg]


async def test_exempt_fastapi_routes_skip_the_middleware() -> None:
    app = api(RouteLimit("5/minute"), limits=["1/minute"], clock=FrozenClock(START))
    async with client(app) as http:
        health = [(await http.get("/health")).status_code for _ in range(3)]
        b = [(await http.get("/b/x")).status_code for _ in range(2)]
    assert health == [200, 200, 200]
    assert b == [200, 429]


async def test_the_example_app() -> None:
    from example_projects.asgi_app.app import create_app
    from example_projects.environment import throttle_settings

    settings = {**throttle_settings({}), "STORAGE": "memory://"}
    app = create_app(settings, clock=FrozenClock(START))
    async with client(app, peer=("198.51.100.77", 1)) as http:
        assert (await http.get("/stream")).text == "0\n1\n2\n"
        logins = [(await http.post("/login")).status_code for _ in range(4)]
        assert logins == [200, 200, 200, 429]
        assert [(await http.get("/health")).status_code for _ in range(9)] == [200] * 9
    async with client(app, peer=("198.51.100.78", 1)) as http:
        searches = [await http.get("/search", params={"q": "x"}) for _ in range(3)]
    assert [r.status_code for r in searches] == [200, 200, 429]
    assert searches[2].json()["violated-policies"] == ["2-per-minute"]
