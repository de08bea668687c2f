"""The Django hello-world site every Django contender is measured on, and its unlimited
baseline. Django's settings are one per process: they are configured here once (no
database, no middleware but the contender's own), and each contender's app is a
`WSGIHandler` built with its middleware, called at its own path."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

PLAIN = "/plain/"
"""The hello view without any limiting (what the baseline and our middleware call)."""
DECORATED = "/ratelimit/"
"""The same view behind django-ratelimit's `@ratelimit`."""
RATE = {"rate": "1000000000/3600s"}
"""django-ratelimit's rate, set by its adapter before the URLs are first read."""


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello, world!")


def _ratelimited() -> Any:
    try:
        from django_ratelimit.decorators import ratelimit
    except ImportError:
        return hello
    return ratelimit(key="ip", rate=RATE["rate"], block=True)(hello)


def configure() -> bool:
    """Configure Django for the benchmark (once per process); False when the process had
    its own settings already (the test suite's), which contenders must then leave alone."""
    from django.conf import settings

    if settings.configured:
        return OWNED["settings"]
    import django

    OWNED["settings"] = True

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=["throttle_django"],
        DATABASES={},
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        USE_TZ=True,
        SILENCED_SYSTEM_CHECKS=["django_ratelimit.E003", "django_ratelimit.W001"],
    )
    django.setup()
    return True


OWNED = {"settings": False}


def at(path: str, middleware: list[str]) -> Any:
    """A WSGI app answering every request with the view at `path`, through `middleware`."""
    from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
    from django.test import override_settings

    class Request(WSGIRequest):
        urlconf = __name__

    class Handler(WSGIHandler):
        request_class = Request

    configure()
    with override_settings(MIDDLEWARE=middleware):
        handler = Handler()

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        environ["PATH_INFO"] = path
        return handler(environ, start_response)

    return app


def within(app: Any, **overrides: Any) -> Any:
    """`app` with the settings `overrides` in force: from now on when the benchmark owns the
    settings (no other contender reads them: each puts its own in force, in place of the
    last one's, before it is timed), only around each of its requests when the test suite
    owns them. In place, not on top: every override left on adds a layer that each look-up
    of a setting nobody set (django-ratelimit's `RATELIMIT_*`) walks at every request."""
    from django.test import override_settings

    changed = override_settings(**overrides)
    if configure():
        while IN_FORCE:
            IN_FORCE.pop().disable()
        changed.enable()
        IN_FORCE.append(changed)
        return app

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        with changed:
            return app(environ, start_response)

    return wrapped


IN_FORCE: list[Any] = []
"""The override `within` put in force last, in the benchmark's own settings."""


def hello_app() -> Any:
    return at(PLAIN, [])


def _patterns() -> list[Any]:
    from django.urls import path

    return [path("plain/", hello), path("ratelimit/", _ratelimited())]


def __getattr__(name: str) -> Any:
    if name == "urlpatterns":
        return _patterns()
    raise AttributeError(name)
