"""The Django driver: the kit's app as a URLconf, `RateLimitMiddleware` configured from the
settings as the `THROTTLE` dict (applied with `override_settings`) and `@limit` for the view
limits, called through Django's test client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.test import Client as TestClient
from django.test import override_settings
from django.urls import path

from tests.integrations.driver import VIEWS, Answer, AppSpec, Client
from throttle_django import exempt, limit

MIDDLEWARE = ["throttle_django.middleware.RateLimitMiddleware"]


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello")


@exempt
def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def limited_view(name: str, limits: list[dict[str, Any]]) -> Callable[..., HttpResponse]:
    """The view of `/<name>`: a function of its own name (the name its limits are scoped by)
    with `@limit` applied once per limit, the first one outermost."""

    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("hello")

    view.__qualname__ = view.__name__ = f"view_{name}"
    for keywords in reversed(limits):
        view = limit(**keywords)(view)
    return view


def urlconf(spec: AppSpec) -> ModuleType:
    """The URLconf of the kit's routes, as a module object of its own (`ROOT_URLCONF`)."""
    module = ModuleType("throttle_kit_urls")
    module.urlpatterns = [path("", hello), path("login", hello), path("health", health)]  # type: ignore[attr-defined]
    module.urlpatterns += [  # type: ignore[attr-defined]
        path(name, limited_view(name, spec.views.get(name, []))) for name in VIEWS
    ]
    return module


class DjangoTestClient(Client):
    """Requests through Django's test client, the peer address in `REMOTE_ADDR`."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def send(self, method: str, path: str, peer: str, headers: dict[str, str]) -> Answer:
        answer = self.client.generic(method, path, headers=headers, REMOTE_ADDR=peer)
        return answer.status_code, answer.items(), answer.content


class DjangoDriver:
    name = "django"
    compound_view_limits = True

    @contextmanager
    def client(self, app: AppSpec) -> Iterator[DjangoTestClient]:
        with override_settings(
            THROTTLE=dict(app.settings), ROOT_URLCONF=urlconf(app), MIDDLEWARE=MIDDLEWARE
        ):
            yield DjangoTestClient(TestClient(raise_request_exception=False))
