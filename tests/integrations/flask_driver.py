"""The Flask driver: the kit's app in Flask, `Throttle` configured from the settings under the
`THROTTLE_` prefix of `app.config` and `@throttle.limit` for the view limits, called through
Flask's test client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from flask.testing import FlaskClient

from tests.integrations.driver import VIEWS, Answer, AppSpec, Client
from throttle_flask import Throttle


def build(spec: AppSpec) -> Flask:
    app = Flask(__name__)
    app.config.update({f"THROTTLE_{name}": value for name, value in spec.settings.items()})
    throttle = Throttle(app)

    def hello() -> str:
        return "hello"

    @throttle.exempt
    def health() -> str:
        return "ok"

    app.add_url_rule("/", "index", hello, methods=["GET", "POST"])
    app.add_url_rule("/login", "login", hello, methods=["GET", "POST"])
    app.add_url_rule("/health", "health", health)
    for view in VIEWS:

        def limited() -> str:
            return "hello"

        for limit in reversed(spec.views.get(view, [])):
            limited = throttle.limit(**limit)(limited)
        app.add_url_rule(f"/{view}", view, limited)
    return app


class FlaskTestClient(Client):
    """Requests through Flask's test client, the peer address set in the WSGI environ."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def send(self, method: str, path: str, peer: str, headers: dict[str, str]) -> Answer:
        answer = self.client.open(
            path, method=method, headers=headers, environ_base={"REMOTE_ADDR": peer}
        )
        return answer.status_code, answer.headers.items(), answer.get_data()


class FlaskDriver:
    name = "flask"
    compound_view_limits = True

    @contextmanager
    def client(self, app: AppSpec) -> Iterator[FlaskTestClient]:
        with build(app).test_client() as client:
            yield FlaskTestClient(client)
