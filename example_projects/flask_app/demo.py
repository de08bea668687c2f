"""`make demo`, Flask part: serve the example app with gunicorn, send it a burst of real HTTP
requests and a login form's attempts, and print what each response said; the server is
stopped before the program ends."""

from __future__ import annotations

import sys

import httpx

from example_projects.demo import Scene, run


def logins(http: httpx.Client) -> list[httpx.Response]:
    """A wrong password four times, then the right one."""
    wrong = [http.post("/login", data={"password": "guess"}) for _ in range(4)]
    return [*wrong, http.post("/login", data={"password": "demo"})]


LOGIN = Scene(
    "POST /login as client {client}: a wrong password x4, then the right one\n"
    "(3 failed logins a minute; a successful login is not counted, but waits too):",
    "198.51.100.",
    logins,
    [401, 401, 401, 429, 429],
)


def main() -> int:
    return run(
        "example_projects.flask_app.app:app",
        server="gunicorn",
        about="gunicorn, limit 5/minute per client",
        scenes=[LOGIN],
    )


if __name__ == "__main__":
    sys.exit(main())
