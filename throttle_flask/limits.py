"""Limits declared with `@throttle.limit` and `@throttle.exempt` on views, view classes and
blueprints, and what they add up to for one endpoint.

An endpoint is covered, from the outside in, by the global limits (settings), the limits of
each blueprint it belongs to (the outermost first), those of its view class and those of its
view function. `exempt` on one of these drops every limit declared outside it: an exempt view
keeps only the limits declared on itself.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from flask import Flask

from throttle_core.errors import ConfigError
from throttle_core.http import GLOBAL, KeySpec, Rule, ViewLimit, ViewLimits
from throttle_core.http.views import LimitValue

ResponsePredicate = Callable[[Any], bool]
"""`deduct_when(response) -> bool`: whether a request counts, decided from its response."""


def _no_arguments(function: Callable[[], Any], what: str) -> Callable[[Any], Any]:
    """A zero-argument callable (Flask code reads `flask.request`) as the request side calls
    it, with the request; named as `function` so counters keyed by it keep a stable id."""
    if inspect.iscoroutinefunction(function):
        raise ConfigError(
            f"the {what} function {function!r} is async: Flask decides before the view, in "
            "sync code; make it a plain function"
        )

    @functools.wraps(function)
    def called(_request: Any) -> Any:
        return function()

    return called


class FlaskLimit(ViewLimit):
    """A `ViewLimit` declared in Flask: counted per endpoint, or under `scope` when it is set
    (a blueprint's limit shared by all its endpoints unless `per_endpoint`); `deduct_when`,
    when set, is decided after the response."""

    __slots__ = ("deduct_when", "per_endpoint", "scope")

    def __init__(
        self,
        limit: LimitValue | Callable[[Any], LimitValue],
        *,
        key: KeySpec | None,
        methods: Iterable[str] | str | None,
        cost: int | Callable[[Any], int],
        id: str | None,
        deduct_when: ResponsePredicate | None,
        per_endpoint: bool = False,
        scope: str | None = None,
    ) -> None:
        super().__init__(limit, key=key, methods=methods, cost=cost, id=id)
        if not isinstance(per_endpoint, bool):
            raise ConfigError(f"per_endpoint must be True or False, got {per_endpoint!r}")
        self.deduct_when = deduct_when
        self.per_endpoint = per_endpoint
        self.scope = scope

    @classmethod
    def declared(
        cls,
        limit: LimitValue | Callable[[], LimitValue],
        *,
        key: KeySpec | Callable[[], Any] | None,
        methods: Iterable[str] | str | None,
        cost: int | Callable[[], int],
        id: str | None,
        deduct_when: ResponsePredicate | None,
        per_endpoint: bool,
    ) -> FlaskLimit:
        """The limit `@throttle.limit` declares, its zero-argument callables adapted."""
        if deduct_when is not None and not callable(deduct_when):
            raise ConfigError(
                f"deduct_when must be a callable taking the response, got {deduct_when!r}"
            )
        return cls(
            _no_arguments(limit, "limit") if callable(limit) else limit,
            key=_no_arguments(key, "key") if callable(key) else key,  # type: ignore[arg-type]
            methods=methods,
            cost=_no_arguments(cost, "cost") if callable(cost) else cost,
            id=id,
            deduct_when=deduct_when,
            per_endpoint=per_endpoint,
        )

    def scoped(self, scope: str | None) -> FlaskLimit:
        """This limit counted under `scope` (None: per endpoint)."""
        return FlaskLimit(
            self.limit,
            key=self.key,
            methods=self.methods,
            cost=self.cost,
            id=self.id,
            deduct_when=self.deduct_when,
            per_endpoint=self.per_endpoint,
            scope=scope,
        )

    def rule(self, view: str, request: Any = None) -> Rule:
        return super().rule(view if self.scope is None else self.scope, request)


@dataclass
class Declared:
    """What was declared on one view, view class or blueprint: its limits (in reading order,
    the top decorator first) and whether it is exempt."""

    limits: list[FlaskLimit] = field(default_factory=list)
    exempt: bool = False


class EndpointLimits(NamedTuple):
    """What covers one endpoint: whether the global limits do, the declared limits taken
    before the view, and those with `deduct_when`, settled after the response. `exempt` (no
    global limits) says an `exempt` mark dropped limits declared outside it. `view` is what
    the check before the view decides; `peeks` and `counts` what each `deduct_when` limit
    decides before the view (a peek) and after the response (a count)."""

    global_limits: bool
    limits: tuple[FlaskLimit, ...] = ()
    deferred: tuple[FlaskLimit, ...] = ()
    view: ViewLimits = GLOBAL
    peeks: tuple[ViewLimits, ...] = ()
    counts: tuple[ViewLimits, ...] = ()

    @property
    def exempt(self) -> bool:
        return not self.global_limits


NOT_ROUTED = EndpointLimits(True)
"""A request that matched no route (a 404 or 405): the global limits alone."""


def blueprint_names(endpoint: str) -> list[str]:
    """The registered names of the blueprints of `endpoint`, the outermost first
    (`"api.v1.items"` → `["api", "api.v1"]`)."""
    parts = endpoint.split(".")[:-1]
    return [".".join(parts[: n + 1]) for n in range(len(parts))]


def endpoint_limits(
    app: Flask, endpoint: str | None, declared: Mapping[object, Declared]
) -> EndpointLimits:
    """What covers `endpoint` of `app`, from the declarations made on its blueprints, its view
    class and its view function."""
    if endpoint is None:
        return NOT_ROUTED
    levels: list[tuple[Declared, str | None]] = []
    for name in blueprint_names(endpoint):
        found = declared.get(app.blueprints.get(name))
        if found is not None:
            levels.append((found, f"blueprint:{name}"))
    function = app.view_functions.get(endpoint)
    for target in (getattr(function, "view_class", None), function):
        found = declared.get(target)
        if found is not None:
            levels.append((found, None))
    outermost = max((n for n, (found, _) in enumerate(levels) if found.exempt), default=-1)
    limits = [
        limit if scope is None or limit.per_endpoint else limit.scoped(scope)
        for found, scope in levels[max(outermost, 0) :]
        for limit in found.limits
    ]
    taken = tuple(limit for limit in limits if limit.deduct_when is None)
    deferred = tuple(limit for limit in limits if limit.deduct_when is not None)
    global_limits = outermost < 0
    return EndpointLimits(
        global_limits=global_limits,
        limits=taken,
        deferred=deferred,
        view=ViewLimits.of(taken, endpoint, global_limits),
        peeks=tuple(ViewLimits((limit,), endpoint, False, peek=True) for limit in deferred),
        counts=tuple(ViewLimits((limit,), endpoint, False) for limit in deferred),
    )
