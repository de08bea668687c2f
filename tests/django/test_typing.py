"""Django users' views are type-checked against ours: `mypy --strict` sees `request.throttle`
on a `ThrottledRequest` and `decision_of(request)` as `Decision | None`, never `Any`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

USER_VIEWS = """
from django.http import HttpRequest, HttpResponse
from throttle_django import ThrottledRequest, decision_of, limit


@limit("10/minute", key="user", block=False)
def search(request: ThrottledRequest) -> HttpResponse:
    reveal_type(request.throttle)
    if request.throttle is not None and not request.throttle.allowed:
        return HttpResponse(status=429)
    return HttpResponse("results")


def home(request: HttpRequest) -> HttpResponse:
    reveal_type(decision_of(request))
    request.throttle.allowed
    return HttpResponse("home")
"""


def test_mypy_types_request_throttle_for_django_users(tmp_path: Path) -> None:
    module = tmp_path / "views.py"
    module.write_text(USER_VIEWS)
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir",
         str(tmp_path / "cache"), str(module)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    out = checked.stdout
    revealed = [line for line in out.splitlines() if "Revealed type" in line]
    assert len(revealed) == 2, out
    for line in revealed:
        assert line.endswith('fallback=throttle_core.http.decision.Decision] | None"'), out
        assert '"Any"' not in line, out
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 1, out
    assert '"HttpRequest" has no attribute "throttle"' in errors[0], out
