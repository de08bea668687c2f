"""RequestLimiter: the rules a request matches and the limits of its view, decided as one
compound limit, with headers.

The sync `check` and async `acheck` share every step but the two that may wait (a key or user
lookup that is async, and the storage): `pending` finds what applies, `plan` builds the
limiter, `decision` renders the outcome; each shell is a few lines around them.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from throttle_core.clock import Clock, SystemClock
from throttle_core.compound import CompoundLimiter, combine
from throttle_core.factory import RateLimiterFactory
from throttle_core.http.decision import PASS, Decision
from throttle_core.http.failures import FailureLog
from throttle_core.http.headers import Quota, Report, rate_limit_headers, retry_after
from throttle_core.http.keys import KeySpec, Resolver, resolver
from throttle_core.http.options import LimitSpec, OptionKeywords, Options
from throttle_core.http.request import WEBSOCKET, RequestView
from throttle_core.http.rules import Rule
from throttle_core.http.views import ViewLimit
from throttle_core.limiter import Limiter, NoLimiter
from throttle_core.result import RateLimit
from throttle_core.storage.memory import InMemoryStorage

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["LimitSpec", "Plan", "RequestLimiter"]

log = logging.getLogger("throttle_core.http")

LIMITERS_KEPT = 4096
"""Limiters a limit keeps for the keys it used lately (the least recent evicted beyond), so
a busy key costs no new objects per request."""

VIEW_RULES_KEPT = 1024
"""View rules a request limiter keeps bound (the least recent evicted beyond)."""

USER_KEYS = frozenset({"user", "user_or_ip"})


@dataclass(frozen=True, slots=True)
class BoundLimit:
    """One limit of a rule, ready to use: its quota in headers (None for a `no_limit`
    config, which headers leave out) and `limiter(key)`, the limiter of a key (limiters hold
    no state of their own, so recent ones are kept and shared)."""

    factory: RateLimiterFactory
    quota: Quota | None
    limiter: Any

    @classmethod
    def of(cls, factory: RateLimiterFactory, quota: Quota | None) -> BoundLimit:
        return cls(factory, quota, lru_cache(maxsize=LIMITERS_KEPT)(factory.create))


@dataclass(frozen=True, slots=True)
class BoundRule:
    """A rule with its key function and limits, bound once."""

    rule: Rule
    key: KeySpec
    find: Resolver
    limits: tuple[BoundLimit, ...]
    quotas: tuple[Quota | None, ...]


Pending = tuple[Sequence["BoundRule"], list[object], "list[int] | None"]
"""What applies to one request: its rules, each one's key as found (a string, None, or an
awaitable of either), and each one's tokens (None: every rule's own cost). A plain tuple: it
is built on every request."""


class Plan(NamedTuple):
    """What one request must pass: one limiter (or a compound of several) and the tokens it
    takes (an int, or one count per member of a compound), with each limit's quota."""

    limiter: Limiter | NoLimiter | CompoundLimiter
    tokens: Any
    quotas: tuple[Quota | None, ...]


def _key(value: object) -> str | None:
    if value is None:
        return None
    text = value if type(value) is str else str(value)
    return text.strip() or None


def key_now(found: object) -> str | None:
    """A found key, from sync code: an async key function is refused clearly."""
    if type(found) is not str and inspect.isawaitable(found):
        close = getattr(found, "close", None)
        if close is not None:
            close()
        raise TypeError(
            "this key function is async (or the user lookup it needs); use it with an async "
            "framework or make it sync"
        )
    return _key(found)


class RequestLimiter:
    """The request side of one integration: options validated once, then `check(request)`
    (or `await acheck(request)`) gives the `Decision` for each request.

    Takes the shared options as `Options` or as keywords (`limits`, `rules`, `storage`,
    `headers`, `trusted_proxies`, `fail_open`, `key`, `enabled`, `ipv6_prefix`,
    `proxy_header`), plus a `lock` for user storages and a `clock` for tests. The storage
    defaults to a private in-memory one. `needs_request` says whether a key function wants
    the framework's request object, `needs_user` whether a rule counts by user;
    `never_waits` that the storage decides without I/O, so `acheck` calls it directly.
    """

    def __init__(
        self,
        options: Options | None = None,
        *,
        lock: Any = None,
        clock: Clock | None = None,
        **keywords: Unpack[OptionKeywords],
    ) -> None:
        if options is None:
            options = Options(**keywords)
        elif keywords:
            options = options.replace(**keywords)
        self.options = options
        self.enabled = options.enabled
        self.fail_open = options.fail_open
        self.key = options.key
        self.styles = options.headers
        self.client = options.client
        self.lock = lock
        self.clock = clock
        self.storage: Any = (
            InMemoryStorage(clock=clock) if options.storage is None else options.storage
        )
        every = (*options.limits, *options.rules)
        self.exempt = tuple(rule for rule in every if rule.exempt)
        self.rules = tuple(self.bind(rule) for rule in every if not rule.exempt)
        self.needs_request = any(callable(bound.key) for bound in self.rules)
        self.needs_user = any(bound.key in USER_KEYS for bound in self.rules)
        self.never_waits = lock is None and getattr(self.storage, "never_waits", False) is True
        self.unconditional = not self.exempt and all(
            bound.rule.methods is None and not bound.rule.paths for bound in self.rules
        )
        self.failures = FailureLog(log, (clock or SystemClock()).now)
        self._view_rule = lru_cache(maxsize=VIEW_RULES_KEPT)(self.bind)

    def bind(self, rule: Rule) -> BoundRule:
        """`rule` with its key function and a factory per limit, on this limiter's storage."""
        key = rule.key if rule.key is not None else self.key
        limits = []
        for config, counter_id in zip(rule.configs, rule.counter_ids(key), strict=True):
            factory = RateLimiterFactory(
                {**config, "id": counter_id}, self.storage, self.lock, clock=self.clock
            )
            policy = factory.policy
            quota = (
                None
                if policy is None
                else Quota(config["id"], policy.limit, policy.window_seconds())
            )
            limits.append(BoundLimit.of(factory, quota))
        quotas = tuple(limit.quota for limit in limits)
        return BoundRule(rule, key, resolver(key, self.client), tuple(limits), quotas)

    def matching(self, request: RequestView) -> Sequence[BoundRule]:
        """The global rules that apply to `request` (none when it is exempt or limiting is
        off)."""
        if not self.enabled:
            return ()
        method, path = request.method, request.path
        if self.unconditional and method != WEBSOCKET:
            return self.rules
        if any(rule.matches(method, path) for rule in self.exempt):
            return ()
        return [bound for bound in self.rules if bound.rule.matches(method, path)]

    def pending(
        self,
        request: RequestView,
        limits: Sequence[ViewLimit] = (),
        *,
        view: str = "",
        peek: Collection[ViewLimit] = (),
        global_limits: bool = True,
    ) -> Pending | None:
        """Step one of a decision: the global rules `request` matches (unless
        `global_limits` is False) and the `limits` of its view (named `view`) that cover its
        method, each with its key as found and its tokens (0 for the limits in `peek`)."""
        rules = self.matching(request) if global_limits else ()
        if not limits:
            if not rules:
                return None
            return rules, [bound.find(request) for bound in rules], None
        if not self.enabled:
            return None
        every = list(rules)
        costs = [bound.rule.cost for bound in every]
        for limit in limits:
            rule = limit.rule(view, request.request)
            if rule.matches(request.method, request.path):
                every.append(self._view_rule(rule))
                costs.append(0 if limit in peek else limit.tokens(rule, request.request))
        if not every:
            return None
        return every, [bound.find(request) for bound in every], costs

    def plan(self, pending: Pending, keys: Sequence[object]) -> Plan | None:
        """Step two: the compound limiter for the pending rules and their keys (rules whose
        key is None do not apply); None when nothing is left to decide."""
        rules, _, costs = pending
        if len(rules) == 1 and len(rules[0].limits) == 1:
            bound, key = rules[0], _key(keys[0])
            if key is None:
                return None
            cost = bound.rule.cost if costs is None else costs[0]
            return Plan(bound.limits[0].limiter(key), cost, bound.quotas)
        limiters, tokens, quotas = [], [], []
        for number, (bound, found) in enumerate(zip(rules, keys, strict=True)):
            key = _key(found)
            if key is None:
                continue
            cost = bound.rule.cost if costs is None else costs[number]
            for limit in bound.limits:
                limiters.append(limit.limiter(key))
                tokens.append(cost)
                quotas.append(limit.quota)
        if not limiters:
            return None
        if len(limiters) == 1:
            return Plan(limiters[0], tokens[0], tuple(quotas))
        return Plan(CompoundLimiter(limiters), tuple(tokens), tuple(quotas))

    def decision(self, plan: Plan, result: RateLimit) -> Decision:
        """Step three: the decision and headers for the compound `result` of `plan`."""
        quotas = plan.quotas
        if len(quotas) == 1:
            reports: tuple[Report, ...] = () if quotas[0] is None else ((quotas[0], result),)
        else:
            reports = tuple(
                [
                    (quota, member)
                    for quota, member in zip(quotas, result.members, strict=True)
                    if quota is not None
                ]
            )
        return self.render(reports, result)

    def render(self, reports: tuple[Report, ...], result: RateLimit) -> Decision:
        """The decision for `result`, whose limits are described by `reports`."""
        headers = tuple(rate_limit_headers(self.styles, reports)) if self.styles else ()
        if result.accepted:
            return Decision(None, headers, result, reports=reports)
        violated = tuple(dict.fromkeys(q.name for q, r in reports if not r.accepted))
        seconds = retry_after(result)
        retry = ("Retry-After", str(seconds))
        return Decision(429, (retry, *headers), result, violated, seconds, reports)

    def combine(self, earlier: Decision, decision: Decision) -> Decision:
        """`decision` for a request that `earlier` (another limiter's, already taken) covered
        too: its headers describe the limits of both, so a response describes every limit
        that covered it."""
        if not decision.reports:
            return earlier if decision.status is None else decision
        if not earlier.reports:
            return decision
        reports = (*earlier.reports, *decision.reports)
        try:
            return self.render(reports, combine([result for _, result in reports]))
        except Exception:
            return decision

    def failed(self) -> Decision:
        """The decision when the storage raised (or returned what cannot be rendered):
        through (fail_open) or 503, logged without a flood."""
        self.failures.failed(self.fail_open)
        return PASS if self.fail_open else Decision(503)

    def check(
        self,
        request: RequestView,
        limits: Sequence[ViewLimit] = (),
        *,
        view: str = "",
        peek: Collection[ViewLimit] = (),
        global_limits: bool = True,
    ) -> Decision:
        """Decide for one request: the global rules it matches and the `limits` of its view
        (named `view`) as one compound limit, where a refusal by any takes nothing from the
        others. Limits in `peek` take no tokens (they report only); `global_limits=False`
        decides the view's limits alone. Sync frameworks: key functions must be sync."""
        pending = self.pending(request, limits, view=view, peek=peek, global_limits=global_limits)
        if pending is None:
            return PASS
        plan = self.plan(pending, [key_now(found) for found in pending[1]])
        if plan is None:
            return PASS
        try:
            return self.decision(plan, plan.limiter.consume(plan.tokens))
        except Exception:
            return self.failed()

    async def acheck(
        self,
        request: RequestView,
        limits: Sequence[ViewLimit] = (),
        *,
        view: str = "",
        peek: Collection[ViewLimit] = (),
        global_limits: bool = True,
    ) -> Decision:
        """`check` without blocking the event loop: async key functions and user lookups are
        awaited, and the storage's async path is used unless it `never_waits`."""
        pending = self.pending(request, limits, view=view, peek=peek, global_limits=global_limits)
        if pending is None:
            return PASS
        keys = [
            found if type(found) is str or not inspect.isawaitable(found) else await found
            for found in pending[1]
        ]
        plan = self.plan(pending, keys)
        if plan is None:
            return PASS
        try:
            if self.never_waits:
                return self.decision(plan, plan.limiter.consume(plan.tokens))
            return self.decision(plan, await plan.limiter.aconsume(plan.tokens))
        except Exception:
            return self.failed()

    def reset(self, request: RequestView, limits: Sequence[ViewLimit], *, view: str = "") -> None:
        """Forget `request`'s counters of `limits` on the view named `view` (after a
        successful login, say)."""
        pending = self._pending_view(request, limits, view)
        plan = None if pending is None else self.plan(pending, list(map(key_now, pending[1])))
        if plan is not None:
            plan.limiter.reset()

    async def areset(
        self, request: RequestView, limits: Sequence[ViewLimit], *, view: str = ""
    ) -> None:
        """`reset` without blocking the event loop."""
        pending = self._pending_view(request, limits, view)
        if pending is None:
            return
        keys = [await found if inspect.isawaitable(found) else found for found in pending[1]]
        plan = self.plan(pending, keys)
        if plan is not None:
            await plan.limiter.areset()

    def _pending_view(
        self, request: RequestView, limits: Sequence[ViewLimit], view: str
    ) -> Pending | None:
        rules = [self._view_rule(limit.rule(view, request.request)) for limit in limits]
        if not rules:
            return None
        return rules, [bound.find(request) for bound in rules], [0] * len(rules)
