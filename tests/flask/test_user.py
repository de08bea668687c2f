"""Key "user": `THROTTLE_USER` when set, else flask-login's `current_user` when it is
authenticated, else the address; looked up only when a matched limit counts by user."""

from __future__ import annotations

from flask import request
from flask_login import LoginManager, UserMixin, login_user

from tests.flask.apps import get, limited_route, make_app
from throttle_flask import Throttle


def test_throttle_user_keys_by_the_id_it_returns() -> None:
    looked: list[str] = []

    def user() -> str | None:
        looked.append(request.path)
        return request.headers.get("X-User")

    app, throttle = make_app(USER=user, HEADERS="ietf")

    @app.get("/mine")
    @throttle.limit("1/minute", key="user")
    def mine() -> str:
        return "mine"

    @app.get("/any")
    @throttle.limit("1/minute")
    def anything() -> str:
        return "any"

    client = app.test_client()
    alice, bob = {"X-User": "alice"}, {"X-User": "bob"}
    assert get(client, "/mine", headers=alice).status_code == 200
    assert get(client, "/mine", headers=alice, peer="203.0.113.8").status_code == 429
    assert get(client, "/mine", headers=bob).status_code == 200
    assert [get(client, "/mine", peer=p).status_code for p in ("192.0.2.1", "192.0.2.1")] == [
        200,
        429,
    ]
    get(client, "/any", headers=alice)
    assert looked == ["/mine"] * 5


def test_a_user_keyword_wins_over_the_config() -> None:
    app, throttle = make_app(
        Throttle(user=lambda: "from-keyword"), USER=lambda: "from-config", KEY="user"
    )

    client = limited_route(app, throttle, "/", "1/minute")
    assert [get(client, peer=p).status_code for p in ("192.0.2.1", "192.0.2.2")] == [200, 429]


class User(UserMixin):  # type: ignore[misc]
    def __init__(self, id: str) -> None:
        self.id = id


def test_flask_login_current_user_keys_authenticated_requests() -> None:
    app, throttle = make_app(KEY="user")
    app.secret_key = "test"
    manager = LoginManager(app)
    manager.user_loader(User)

    @app.post("/login/<name>")
    @throttle.exempt
    def login(name: str) -> str:
        login_user(User(name))
        return "in"

    @app.get("/")
    @throttle.limit("1/minute")
    def hello() -> str:
        return "hello"

    alice, bob, anonymous = (app.test_client() for _ in range(3))
    alice.post("/login/alice")
    bob.post("/login/bob")
    assert get(alice).status_code == 200
    assert get(alice, peer="203.0.113.1").status_code == 429
    assert get(bob).status_code == 200
    assert [get(anonymous, peer=p).status_code for p in ("192.0.2.9", "192.0.2.9")] == [200, 429]


def test_flask_login_installed_but_unused_counts_by_address() -> None:
    app, throttle = make_app(KEY="user")

    client = limited_route(app, throttle, "/", "1/minute")
    assert [get(client, peer=p).status_code for p in ("192.0.2.1", "192.0.2.2")] == [200, 200]
