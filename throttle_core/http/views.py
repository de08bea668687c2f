"""Limits declared on one view (a decorator or a route dependency): `ViewLimit`.

A view limit counts per view unless it has an `id`: its counter is scoped by the view's stable
name (what each framework calls it: a Django view's `module.qualname`, a Flask endpoint, a
FastAPI path template), so two views with the same limit string never share a counter, while
an `id` names one counter shared by every view using it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple, TypedDict

from throttle_core.errors import ConfigError
from throttle_core.http.keys import KeySpec
from throttle_core.http.rules import Rule

LimitValue = str | Mapping[str, Any]
LimitFunction = Callable[[Any], LimitValue]
CostFunction = Callable[[Any], int]

RULES_KEPT = 1024
"""Rules a view limit keeps for the (view, limit) pairs it saw lately (least recent evicted)."""


class ViewLimitOptions(TypedDict, total=False):
    """A view limit's keywords besides the limit itself (what decorators built on
    `ViewLimit` pass through)."""

    key: KeySpec | None
    methods: Iterable[str] | str | None
    cost: int | CostFunction
    id: str | None


class _Keyed:
    """A limit value that hashes by its text, so that config dicts can key a cache."""

    __slots__ = ("text", "value")

    def __init__(self, value: LimitValue) -> None:
        self.value = value
        self.text = (
            value
            if isinstance(value, str)
            else json.dumps(dict(value), sort_keys=True, default=repr)
        )

    def __hash__(self) -> int:
        return hash(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Keyed) and other.text == self.text


class ViewLimit:
    """A limit on the views it is declared on. `limit` is a limit string, a config dict, or a
    callable taking the framework's request and returning one (tiers by user); `cost` an int
    or such a callable; `key`, `methods` and `id` are `Rule`'s. Every value that is not a
    callable is validated here, at declaration."""

    __slots__ = ("_rule", "cost", "id", "key", "limit", "methods")

    def __init__(
        self,
        limit: LimitValue | LimitFunction,
        *,
        key: KeySpec | None = None,
        methods: Iterable[str] | str | None = None,
        cost: int | CostFunction = 1,
        id: str | None = None,
    ) -> None:
        if limit is None or not (callable(limit) or isinstance(limit, str | Mapping)):
            raise ConfigError(
                "a view limit takes a limit string, a config dict, or a callable returning "
                f"one; got {limit!r}"
            )
        if cost is None or not (callable(cost) or isinstance(cost, int)):
            raise ConfigError(f"cost must be an int ≥ 0 or a callable returning one, got {cost!r}")
        self.limit = limit
        self.cost = cost
        self.id = id
        self._rule = lru_cache(maxsize=RULES_KEPT)(self._make_rule)
        probe = "1/second" if callable(limit) else limit
        fixed = Rule(probe, key=key, methods=methods, cost=0 if callable(cost) else cost, id=id)
        self.key = fixed.key
        self.methods = None if fixed.methods is None else sorted(fixed.methods)

    def _make_rule(self, view: str, limit: _Keyed) -> Rule:
        return Rule(
            limit.value,
            key=self.key,
            methods=self.methods,
            cost=1 if callable(self.cost) else self.cost,
            id=self.id,
            namespace="" if self.id is not None else view,
        )

    def rule(self, view: str, request: Any = None) -> Rule:
        """The rule this limit is on the view named `view`, for `request` (the framework's
        request object, which a callable limit is given)."""
        value = self.limit(request) if callable(self.limit) else self.limit
        if not isinstance(value, str | Mapping):
            raise ConfigError(
                f"the limit function {self.limit!r} returned {value!r}, not a limit string "
                "or config dict"
            )
        return self._rule(view, _Keyed(value))

    def tokens(self, rule: Rule, request: Any = None) -> int:
        """What one request takes from `rule` (this limit's `rule()`): its cost."""
        if not callable(self.cost):
            return rule.cost
        return rule.checked_cost(self.cost(request), self.cost)

    def __repr__(self) -> str:
        shown = {"key": self.key, "methods": self.methods, "cost": self.cost, "id": self.id}
        parts = [repr(self.limit)]
        parts += [f"{k}={v!r}" for k, v in shown.items() if v is not None and v != 1]
        return f"ViewLimit({', '.join(parts)})"


class ViewLimits(NamedTuple):
    """What one check decides besides the global rules: the `limits` of the view named
    `name`, and whether the global rules apply too (`global_limits`). With `peek`, the limits
    take nothing: a peek reports each limit and refuses when fewer tokens remain than one
    request would take (its cost, at least 1), so "would the next request pass?" has the same
    answer in every framework. Frameworks build one per view and keep it."""

    limits: tuple[ViewLimit, ...] = ()
    name: str = ""
    global_limits: bool = True
    peek: bool = False

    @classmethod
    def of(cls, limits: tuple[ViewLimit, ...], name: str, global_limits: bool) -> ViewLimits:
        """What a view with `limits` is checked against: `GLOBAL` itself when it has none and
        the global rules apply (checks of `GLOBAL` take the request limiter's fast path)."""
        if global_limits and not limits:
            return GLOBAL
        return cls(limits, name, global_limits)


GLOBAL = ViewLimits()
"""The global rules alone: what a request with no view limits is checked against."""
