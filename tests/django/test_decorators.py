"""@limit and @exempt on function views (sync and async) and class-based views, with the
middleware and without it (the decorator decides alone and adds the headers itself); a limit
is counted once per request however the view was decorated."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from asgiref.sync import iscoroutinefunction
from django.test import AsyncClient, Client, override_settings
from django.utils.decorators import method_decorator
from django.views import View

from tests.django import views
from tests.django.test_middleware import MIDDLEWARE, URLS
from tests.integrations.scenarios import memory
from throttle_core import ConfigError
from throttle_django import limit
from throttle_django.decorators import covered, declared_limits, view_name

WITHOUT_MIDDLEWARE = [m for m in MIDDLEWARE if "throttle" not in m]


def settings(middleware: list[str], **throttle: Any) -> Any:
    return override_settings(
        ROOT_URLCONF=URLS,
        MIDDLEWARE=middleware,
        THROTTLE={"STORAGE": memory(), **throttle},
    )


BOTH = pytest.mark.parametrize(
    "middleware", [MIDDLEWARE, WITHOUT_MIDDLEWARE], ids=["middleware", "alone"]
)


def statuses(client: Client, path: str, times: int) -> list[int]:
    return [client.get(path).status_code for _ in range(times)]


@BOTH
@pytest.mark.parametrize(
    "path", ["/search/", "/items/", "/more-items/", "/dispatched/"], ids=str.strip
)
def test_each_kind_of_view_counts_once_per_request(middleware: list[str], path: str) -> None:
    with settings(middleware):
        client = Client()
        responses = [client.get(path) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[0]["RateLimit"].startswith('"2-per-minute";r=1;')
    assert responses[2]["Content-Type"] == "application/problem+json"


@BOTH
def test_a_class_limit_covers_every_method(middleware: list[str]) -> None:
    with settings(middleware):
        client = Client()
        codes = [client.get("/items/").status_code, client.post("/items/").status_code]
        codes.append(client.post("/items/").status_code)
    assert codes == [200, 201, 429]


@BOTH
def test_a_subclass_counts_apart_from_its_base(middleware: list[str]) -> None:
    with settings(middleware):
        client = Client()
        assert statuses(client, "/items/", 3) == [200, 200, 429]
        assert statuses(client, "/more-items/", 2) == [200, 200]


@BOTH
def test_stacked_limits_without_global_ones(middleware: list[str]) -> None:
    with settings(middleware):
        client = Client()
        first, refused = client.get("/stacked/"), client.get("/stacked/")
    assert first["RateLimit-Policy"] == '"burst";q=1;w=1, "steady";q=5;w=60'
    assert json.loads(refused.content)["violated-policies"] == ["burst"]
    assert refused["RateLimit"].startswith('"burst";r=0;t=1, "steady";r=4;')


@BOTH
def test_block_false(middleware: list[str]) -> None:
    with settings(middleware):
        client = Client()
        contents = [client.get("/soft/").content for _ in range(2)]
    assert contents == [b"fine", b"slow down"]


@BOTH
def test_request_throttle_is_always_set_even_when_limiting_is_off(middleware: list[str]) -> None:
    with settings(middleware):
        assert Client().get("/typed/").content == b"True"
    with settings(middleware, ENABLED=False):
        assert [Client().get("/typed/").content for _ in range(2)] == [b"none", b"none"]


def test_without_middleware_global_limits_do_not_apply_but_view_limits_do() -> None:
    with settings(WITHOUT_MIDDLEWARE, LIMITS=["1/minute"]):
        client = Client()
        assert statuses(client, "/", 3) == [200, 200, 200]
        assert statuses(client, "/search/", 3) == [200, 200, 429]


@pytest.mark.parametrize("middleware", [MIDDLEWARE, WITHOUT_MIDDLEWARE], ids=["mw", "alone"])
async def test_async_views(middleware: list[str]) -> None:
    with settings(middleware):
        client = AsyncClient()
        codes = [(await client.get("/async-search/")).status_code for _ in range(3)]
        codes += [(await client.get("/async-items/")).status_code for _ in range(3)]
    assert codes == [200, 200, 429, 200, 200, 429]


def test_an_async_view_stays_a_coroutine_function() -> None:
    assert iscoroutinefunction(views.async_search)
    assert inspect.iscoroutinefunction(views.async_search)
    assert not iscoroutinefunction(views.search)
    assert views.AsyncItems.view_is_async
    assert iscoroutinefunction(views.AsyncItems.as_view())


def test_view_names_scope_the_counters() -> None:
    assert view_name(views.search) == "tests.django.views.search"
    assert view_name(views.Items.as_view()) == "tests.django.views.Items"
    assert view_name(views.Dispatched.as_view()) == "tests.django.views.Dispatched"
    assert covered(views.Dispatched.as_view()).name == "tests.django.views.Dispatched"
    assert [item.id for item in declared_limits(views.stacked)] == ["burst", "steady"]
    assert not covered(views.health).global_limits


def test_method_decorator_on_one_handler() -> None:
    class Mixed(View):
        @method_decorator(limit("1/minute"))
        def post(self, request: Any) -> Any:
            from django.http import HttpResponse

            return HttpResponse("posted")

        def get(self, request: Any) -> Any:
            from django.http import HttpResponse

            return HttpResponse("read")

    from django.test import RequestFactory

    factory = RequestFactory()
    view = Mixed.as_view()
    with settings(WITHOUT_MIDDLEWARE):
        codes = [view(factory.post("/")).status_code for _ in range(2)]
        codes += [view(factory.get("/")).status_code for _ in range(2)]
    assert codes == [200, 429, 200, 200]


def test_bad_declarations_fail_at_import_time() -> None:
    with pytest.raises(ConfigError, match="fortnight"):
        limit("5/fortnight")
    with pytest.raises(ConfigError, match="block must be True or False"):
        limit("5/minute", block="no")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="view function or class"):
        limit("5/minute")(42)
