"""What only the Flask example shows end to end: failed logins counted after the response
(`deduct_when`) across gunicorn workers sharing Redis."""

from __future__ import annotations

import pytest

from tests.e2e.harness import FRAMEWORKS, Serve
from tests.e2e.load import Request, client, send

pytestmark = [pytest.mark.slow, pytest.mark.redis]

FLASK = next(f for f in FRAMEWORKS if f.name == "flask")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize("framework", [FLASK], ids=["flask"])
def test_failed_logins_are_counted_across_workers(serve_on_redis: Serve) -> None:
    login = Request("POST", "/login", FORM, b"password=guess")
    right = Request("POST", "/login", FORM, b"password=demo")
    with (
        serve_on_redis({"THROTTLE_LIMIT": ""}) as server,
        client(server.url, keep_alive=False) as http,
    ):
        good = [send(http, right) for _ in range(5)]
        bad = [send(http, login) for _ in range(5)]
    assert [a.status for a in good] == [200] * 5, [a.body for a in good]
    assert [a.status for a in bad] == [401, 401, 401, 429, 429]
