"""`@throttle.limit` and `@throttle.exempt`: limit strings, dicts and per-request functions,
keys and costs, methods, ids, stacking, blueprints (shared or per endpoint, nested), view
classes, and `deduct_when`."""

from __future__ import annotations

import pytest
from flask import Blueprint, g, request
from flask.views import MethodView
from werkzeug.wrappers import Response

from tests.flask.apps import get, limited_route, make_app, post, statuses
from throttle_core import ConfigError
from throttle_flask import Throttle

MINUTE = {"policy": "fixed_window", "interval": 60}


def test_limit_strings_and_config_dicts() -> None:
    app, throttle = make_app(HEADERS="ietf")

    @app.get("/text")
    @throttle.limit("2/minute")
    def text() -> str:
        return "text"

    client = limited_route(app, throttle, "/dict", {**MINUTE, "limit": 1, "id": "dict"})
    assert statuses(client, "/text") == [200, 200, 429]
    assert get(client, "/dict").headers["RateLimit"] == '"dict";r=0;t=60'
    assert get(client, "/dict").status_code == 429


def test_a_limit_function_gives_tiers_per_request() -> None:
    app, throttle = make_app(HEADERS="ietf")

    def tier() -> str:
        return "3/minute" if request.headers.get("X-Plan") == "gold" else "1/minute"

    @app.get("/")
    @throttle.limit(tier)
    def hello() -> str:
        return "hello"

    client = app.test_client()
    gold = {"X-Plan": "gold"}
    assert statuses(client, headers=gold, peer="203.0.113.1", count=4) == [200, 200, 200, 429]
    assert statuses(client, peer="203.0.113.2", count=2) == [200, 429]
    assert (
        get(client, headers=gold, peer="203.0.113.3")
        .headers["RateLimit"]
        .startswith('"3-per-minute";r=2')
    )


def test_keys_by_name_and_by_function() -> None:
    app, throttle = make_app()

    @app.get("/header")
    @throttle.limit("1/minute", key="header:X-Api-Key")
    def by_header() -> str:
        return "h"

    @app.get("/function")
    @throttle.limit("1/minute", key=lambda: request.args.get("account"))
    def by_function() -> str:
        return "f"

    client = app.test_client()
    assert [get(client, "/header", headers={"X-Api-Key": k}).status_code for k in "aab"] == [
        200,
        429,
        200,
    ]
    answers = [get(client, f"/function?account={a}").status_code for a in ("x", "x", "y")]
    assert answers == [200, 429, 200]
    assert "RateLimit" not in get(client, "/function").headers


def test_costs_int_and_function() -> None:
    app, throttle = make_app(HEADERS="ietf")

    @app.get("/fixed")
    @throttle.limit("5/minute", cost=2)
    def fixed() -> str:
        return "fixed"

    sized = {**MINUTE, "limit": 10, "id": "sized"}
    client = limited_route(app, throttle, "/sized", sized, cost=lambda: int(request.args["n"]))
    assert statuses(client, "/fixed") == [200, 200, 429]
    assert get(client, "/sized?n=7").headers["RateLimit"] == '"sized";r=3;t=60'
    assert get(client, "/sized?n=4").status_code == 429
    assert get(client, "/sized?n=3").status_code == 200


def test_methods_narrow_a_limit() -> None:
    app, throttle = make_app()

    @app.route("/form", methods=["GET", "POST"])
    @throttle.limit("1/minute", methods=["POST"])
    def form() -> str:
        return "form"

    client = app.test_client()
    assert statuses(client, "/form") == [200, 200, 200]
    assert "RateLimit" not in get(client, "/form").headers
    assert [post(client, "/form").status_code for _ in range(2)] == [200, 429]


def test_per_endpoint_unless_an_id_names_one_counter() -> None:
    app, throttle = make_app()
    for name in ("a", "b"):
        app.add_url_rule(f"/{name}", name, throttle.limit("1/minute")(lambda: "x"))
    for name in ("c", "d"):
        app.add_url_rule(f"/{name}", name, throttle.limit("1/minute", id="shared")(lambda: "x"))
    client = app.test_client()
    assert [get(client, path).status_code for path in ("/a", "/b", "/a")] == [200, 200, 429]
    assert [get(client, path).status_code for path in ("/c", "/d")] == [200, 429]


def test_stacked_limits_and_global_ones_are_one_decision() -> None:
    app, throttle = make_app(LIMITS=[{**MINUTE, "limit": 10, "id": "global"}], HEADERS="ietf")

    @app.get("/")
    @throttle.limit({**MINUTE, "limit": 2, "id": "burst"})
    @throttle.limit({**MINUTE, "limit": 5, "id": "steady"})
    def hello() -> str:
        return "hello"

    @app.get("/other")
    def other() -> str:
        return "other"

    client = app.test_client()
    first = get(client)
    assert first.headers["RateLimit"] == '"global";r=9;t=60, "burst";r=1;t=60, "steady";r=4;t=60'
    statuses(client, count=3)
    assert get(client, "/other").headers["RateLimit"] == '"global";r=7;t=60'


def test_a_blueprint_limit_is_one_counter_unless_per_endpoint() -> None:
    app, throttle = make_app(HEADERS="ietf")
    shared, each = Blueprint("shared", __name__), Blueprint("each", __name__)
    throttle.limit("2/minute")(shared)
    throttle.limit("2/minute", per_endpoint=True)(each)
    for blueprint in (shared, each):
        blueprint.add_url_rule("/x", "x", lambda: "x")
        blueprint.add_url_rule("/y", "y", lambda: "y")
    app.register_blueprint(shared, url_prefix="/shared")
    app.register_blueprint(each, url_prefix="/each")
    client = app.test_client()
    paths = ("/shared/x", "/shared/y", "/shared/x")
    assert [get(client, p).status_code for p in paths] == [200, 200, 429]
    each_paths = ("/each/x", "/each/y", "/each/x", "/each/y", "/each/x")
    assert [get(client, p).status_code for p in each_paths] == [200, 200, 200, 200, 429]


def test_nested_blueprints_views_and_exempt() -> None:
    app, throttle = make_app(LIMITS=[{**MINUTE, "limit": 100, "id": "global"}], HEADERS="ietf")
    api = Blueprint("api", __name__, url_prefix="/api")
    v1 = Blueprint("v1", __name__, url_prefix="/v1")
    throttle.limit({**MINUTE, "limit": 50, "id": "api"})(api)

    @v1.get("/items")
    @throttle.limit({**MINUTE, "limit": 5, "id": "items"})
    def items() -> str:
        return "items"

    @v1.get("/status")
    @throttle.exempt
    def status() -> str:
        return "ok"

    @v1.get("/ping")
    @throttle.exempt
    @throttle.limit({**MINUTE, "limit": 1, "id": "ping"})
    def ping() -> str:
        return "pong"

    api.register_blueprint(v1)
    open_bp = Blueprint("open", __name__, url_prefix="/open")
    throttle.exempt(open_bp)
    open_bp.add_url_rule("/", "index", lambda: "open")
    app.register_blueprint(api)
    app.register_blueprint(open_bp)
    client = app.test_client()
    assert get(client, "/api/v1/items").headers["RateLimit"] == (
        '"global";r=99;t=60, "api";r=49;t=60, "items";r=4;t=60'
    )
    assert "RateLimit" not in get(client, "/api/v1/status").headers
    assert get(client, "/api/v1/ping").headers["RateLimit"] == '"ping";r=0;t=60'
    assert get(client, "/api/v1/ping").status_code == 429
    assert "RateLimit" not in get(client, "/open/").headers


def test_view_classes() -> None:
    app, throttle = make_app()

    @throttle.limit("1/minute", methods=["POST"])
    class Things(MethodView):
        def get(self) -> str:
            return "list"

        def post(self) -> str:
            return "made"

    app.add_url_rule("/things", view_func=Things.as_view("things"))
    client = app.test_client()
    assert statuses(client, "/things") == [200, 200, 200]
    assert [post(client, "/things").status_code for _ in range(2)] == [200, 429]


def failed(response: Response) -> bool:
    return response.status_code >= 400


def test_deduct_when_counts_only_the_responses_it_holds_for() -> None:
    app, throttle = make_app(HEADERS="ietf")

    @app.post("/login")
    @throttle.limit({**MINUTE, "limit": 2, "id": "login"}, deduct_when=failed)
    def login() -> tuple[str, int]:
        good = request.form.get("password") == "secret"
        return ("welcome", 200) if good else ("wrong", 401)

    client = app.test_client()
    ok = post(client, "/login", data={"password": "secret"})
    assert ok.status_code == 200
    assert ok.headers["RateLimit"] == '"login";r=2;t=0'
    answers = [post(client, "/login", data={"password": "guess"}) for _ in range(2)]
    assert [a.status_code for a in answers] == [401, 401]
    assert [a.headers["RateLimit"] for a in answers] == ['"login";r=1;t=60', '"login";r=0;t=60']
    refused = post(client, "/login", data={"password": "secret"})
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert refused.json is not None
    assert refused.json["violated-policies"] == ["login"]
    other = post(client, "/login", peer="203.0.113.4", data={"password": "secret"})
    assert other.status_code == 200


def test_deduct_when_with_global_limits_describes_both() -> None:
    app, throttle = make_app(LIMITS=[{**MINUTE, "limit": 10, "id": "global"}], HEADERS="ietf")

    @app.post("/login")
    @throttle.limit({**MINUTE, "limit": 1, "id": "login"}, deduct_when=failed)
    def login() -> tuple[str, int]:
        g.seen = throttle.current_decision
        return "wrong", 401

    client = app.test_client()
    first = post(client, "/login")
    assert first.headers["RateLimit"] == '"global";r=9;t=60, "login";r=0;t=60'
    assert "Retry-After" not in first.headers
    refused = post(client, "/login")
    assert refused.status_code == 429
    assert refused.headers["RateLimit"] == '"login";r=0;t=60'
    assert get(client, "/login").status_code == 405


def test_deduct_when_admits_attempts_until_the_count_after_them_is_full() -> None:
    """The race the docs state: requests in flight together all pass the peek; the counter
    itself never goes above the limit."""
    app, throttle = make_app(HEADERS="ietf")
    results: list[int] = []

    @app.post("/login")
    @throttle.limit({**MINUTE, "limit": 1, "id": "login"}, deduct_when=failed)
    def login() -> tuple[str, int]:
        if request.args.get("nested"):
            results.append(post(app.test_client(), "/login").status_code)
        return "wrong", 401

    client = app.test_client()
    outer = post(client, "/login?nested=1")
    assert results == [401]
    assert outer.status_code == 401
    assert outer.headers["RateLimit"] == '"login";r=0;t=60'
    assert post(client, "/login").status_code == 429


def test_declarations_are_checked_when_made() -> None:
    throttle = Throttle()
    with pytest.raises(ConfigError, match="is not a limit string"):
        throttle.limit("5 a minute")
    with pytest.raises(ConfigError, match="key must be a callable or one of"):
        throttle.limit("1/minute", key="cookie")
    with pytest.raises(ConfigError, match="deduct_when must be a callable"):
        throttle.limit("1/minute", deduct_when=True)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="per_endpoint is for blueprints"):
        throttle.limit("1/minute", per_endpoint=True)(lambda: "x")
    with pytest.raises(ConfigError, match="go on views, view classes and blueprints"):
        throttle.exempt("index")

    async def key() -> str:
        return "k"

    with pytest.raises(ConfigError, match="is async"):
        throttle.limit("1/minute", key=key)


def test_a_bad_lock_fails_init_app_even_with_view_limits_only() -> None:
    with pytest.raises(ConfigError, match=r"lock must have acquire\(\) and release\(\), got 5"):
        make_app(Throttle(lock=5))


def test_a_user_limit_function_that_fails_is_the_apps_error() -> None:
    app, throttle = make_app()

    @app.get("/")
    @throttle.limit(lambda: "seven a minute")
    def hello() -> str:
        return "hello"

    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(ConfigError, match="seven a minute"):
        get(app.test_client())
