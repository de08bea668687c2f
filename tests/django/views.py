"""Views of the middleware and decorator tests: function views (sync and async), class-based
views decorated every way, stacked, scoped, non-blocking and exempt limits."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View

from throttle_core.http import Decision
from throttle_django import ThrottledRequest, exempt, limit

SEEN: list[Any] = []
"""What the views saw of their requests (`request.throttle`, whether `request.user` was
read), for the tests to look at."""


def throttle_of(request: HttpRequest) -> Decision | None:
    found: Decision | None = getattr(request, "throttle", None)
    return found


def hello(request: HttpRequest) -> HttpResponse:
    user = getattr(request, "user", None)
    SEEN.append({"throttle": throttle_of(request), "user_read": _user_read(user)})
    return HttpResponse("hello")


def _user_read(user: object) -> bool | None:
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", None)
    from django.utils.functional import empty

    return wrapped is not empty


@limit("2/minute")
def search(request: HttpRequest) -> HttpResponse:
    return HttpResponse("search")


@limit("2/minute")
def other_search(request: HttpRequest) -> HttpResponse:
    return HttpResponse("other")


@limit("2/minute")
async def async_search(request: HttpRequest) -> HttpResponse:
    return HttpResponse("async search")


@limit("3/minute", id="shared")
def shared_one(request: HttpRequest) -> HttpResponse:
    return HttpResponse("one")


@limit("3/minute", id="shared")
def shared_two(request: HttpRequest) -> HttpResponse:
    return HttpResponse("two")


@limit({"policy": "fixed_window", "limit": 1, "interval": "1 second"}, id="burst")
@limit("5/minute", id="steady")
def stacked(request: HttpRequest) -> HttpResponse:
    return HttpResponse("stacked")


@limit("1/minute", id="soft", block=False)
def soft(request: HttpRequest) -> HttpResponse:
    decision = throttle_of(request)
    if decision is not None and not decision.allowed:
        return HttpResponse("slow down", status=200)
    return HttpResponse("fine")


@limit("1/minute", id="typed")
def typed(request: ThrottledRequest) -> HttpResponse:
    """Reads `request.throttle` as its type says it is always there."""
    return HttpResponse("none" if request.throttle is None else str(request.throttle.allowed))


@limit("1/minute", id="posts", methods=["POST"])
def posts_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("posted" if request.method == "POST" else "read")


def plan(request: HttpRequest) -> str:
    return "3/minute" if request.headers.get("X-Plan") == "pro" else "1/minute"


@limit(plan, id="plan", key="header:X-Api-Key")
def by_plan(request: HttpRequest) -> HttpResponse:
    return HttpResponse("plan")


@limit("2/minute", key="user", id="per-user")
def per_user(request: HttpRequest) -> HttpResponse:
    return HttpResponse("user")


@limit("5/minute", id="weighted", cost=lambda request: int(request.GET.get("n", "1")))
def weighted(request: HttpRequest) -> HttpResponse:
    return HttpResponse("weighted")


@exempt
def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@exempt
@limit("1/minute", id="own")
def exempt_with_own(request: HttpRequest) -> HttpResponse:
    return HttpResponse("own")


@limit("2/minute")
class Items(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("items")

    def post(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("created", status=201)


class MoreItems(Items):
    """A subclass of a limited view: limited too, with counters of its own."""


@method_decorator(limit("2/minute"), name="dispatch")
class Dispatched(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("dispatched")


@limit("2/minute")
class AsyncItems(View):
    async def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("async items")


def profile(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"user": request.user.pk})
