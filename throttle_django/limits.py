"""Every limit a project configures, by the counter id its states are stored under: the
`LIMITS` and `RULES` of the settings and the `@limit`s of the views in the URLconf. The
management commands and the admin find a counter's limit here to report what remains."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

from throttle_core.ids import escape_part
from throttle_django import conf
from throttle_django.decorators import declared_limits, view_name


def _views(patterns: Iterable[Any]) -> Iterator[Any]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield pattern.callback


def routed_views() -> Iterator[Any]:
    """Each view the project's URLconf routes to, once."""
    seen: set[object] = set()
    for view in _views(get_resolver().url_patterns):
        if view not in seen:
            seen.add(view)
            yield view


def _view_limits(configuration: conf.Configuration) -> Iterator[tuple[str, dict[str, Any]]]:
    limiter = configuration.limiter
    for view in routed_views():
        name = view_name(view)
        for declared in declared_limits(view):
            if callable(declared.limit):
                continue
            for bound in limiter.bind(declared.rule(name)).limits:
                config = bound.factory.config
                yield config["id"], config


@lru_cache(maxsize=4)
def _configured(configuration: conf.Configuration, urlconf: object) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for counter_id, config in (*configuration.configured_limits(), *_view_limits(configuration)):
        found.setdefault(counter_id, config)
    return found


def configured_limits() -> dict[str, dict[str, Any]]:
    """Each configured limit's config by its counter id (a limit whose value is a callable of
    the request is left out: it has no one value)."""
    return _configured(conf.configuration(), settings.ROOT_URLCONF)


def configured_limit(counter_id: str) -> dict[str, Any] | None:
    """The config of the configured limit counting under `counter_id`, or None."""
    return configured_limits().get(counter_id)


def limit_of_state(state_id: str) -> dict[str, Any] | None:
    """The config of the configured limit a stored state id (`"login:203.0.113.7"`) belongs
    to, or None."""
    prefix = state_id.partition(":")[0]
    for counter_id, config in configured_limits().items():
        if escape_part(counter_id) == prefix:
            return config
    return None
