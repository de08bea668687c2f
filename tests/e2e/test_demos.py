"""`make demo`'s three programs: each serves its example project with a real server, prints a
burst going from 200s to 429s with their headers, and stops the server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from example_projects.asgi_app import demo as asgi_demo
from example_projects.django_site import demo as django_demo
from example_projects.flask_app import demo as flask_demo

pytestmark = pytest.mark.slow

DEMOS: dict[str, Callable[[], int]] = {
    "asgi": asgi_demo.main,
    "django": django_demo.main,
    "flask": flask_demo.main,
}


@pytest.mark.parametrize("name", list(DEMOS))
def test_the_demo_prints_a_burst_ending_in_429s(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert DEMOS[name]() == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split()[1] for line in lines if line[:1].isdigit()]
    assert rows == ["200"] * 5 + ["429"] * 3
    assert "server stopped." in lines
    assert any(line.startswith("RateLimit-Policy: ") for line in lines)
