"""The example site's views: `/` and `/health` (exempt) name the worker process that
answered, `POST /login` is limited by the login rule, `/api/items` by its own limit."""

from __future__ import annotations

import os

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from throttle_django import exempt, limit, reset

PASSWORD = "demo"
"""The password `POST /login` accepts (`password=demo` in the form)."""


@require_GET
def index(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"hello": "world", "worker": os.getpid()})


@require_POST
def login(request: HttpRequest) -> JsonResponse:
    """A login form's answer; a success forgets the client's failed attempts."""
    if request.POST.get("password") == PASSWORD:
        reset(request, id="login")
        return JsonResponse({"logged_in": True})
    return JsonResponse({"logged_in": False}, status=401)


@require_GET
@limit("2/minute", key="header:X-Api-Key", id="api")
def items(request: HttpRequest) -> JsonResponse:
    """Two requests a minute per API key (`X-Api-Key`), on top of the site's own limit."""
    return JsonResponse({"items": [1, 2, 3]})


@exempt
def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "worker": os.getpid()})
