"""Django users' views are type-checked against ours: `mypy --strict` sees `request.throttle`
on a `ThrottledRequest` and `decision_of(request)` as `Decision | None`, never `Any`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.typing_support import strict_mypy

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
    out, revealed, errors = strict_mypy(tmp_path, USER_VIEWS, "views.py")
    assert len(revealed) == 2, out
    for line in revealed:
        assert line.endswith('fallback=throttle_core.http.decision.Decision] | None"'), out
        assert '"Any"' not in line, out
    assert len(errors) == 1, out
    assert '"HttpRequest" has no attribute "throttle"' in errors[0], out
