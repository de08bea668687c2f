"""RequestLimiter: the rules a request matches and the limits of its view, decided as one
compound limit, with headers.

The sync `check` and async `acheck` share every step but the two that may wait (a key or user
lookup that is async, and the storage): `pending` finds what applies, `plan` builds the
limiter, `decision` renders the outcome; each shell is a few lines around them.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from throttle_core.clock import Clock, SystemClock
from throttle_core.compound import CompoundLimiter, combine
from throttle_core.factory import RateLimiterFactory
from throttle_core.http.decision import PASS, Decision
from throttle_core.http.failures import FailureLog
from throttle_core.http.headers import Quota, Report, one_limit_headers, rate_limit_headers
from throttle_core.http.headers import retry_after as retry_seconds
from throttle_core.http.keys import KeySpec, Resolver, key_now, normalized_key, resolver
from throttle_core.http.options import LimitSpec, OptionKeywords, Options
from throttle_core.http.request import WEBSOCKET, RequestView
from throttle_core.http.rules import Rule
from throttle_core.http.views import GLOBAL, ViewLimit, ViewLimits
from throttle_core.limiter import Limiter, NoLimiter
from throttle_core.locks.base import check_lock
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

_tuple_new = tuple.__new__

USER_KEYS = frozenset({"user", "user_or_ip"})
ADDRESS_KEYS = frozenset({"ip", *USER_KEYS})
"""The keys that are (or fall back to) the client address."""


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


class Pending(NamedTuple):
    """What applies to one request: its rules, each one's key as found (a string, None, or
    an awaitable of either), each one's tokens (None: every rule's own cost) and, for a peek,
    the tokens each would need to find left."""

    rules: Sequence[BoundRule]
    found: list[object]
    costs: list[int] | None = None
    needs: list[int] | None = None


class Plan(NamedTuple):
    """What one request must pass: one limiter (or a compound of several) and the tokens it
    takes (an int, or one count per member of a compound), with each limit's quota and, for
    a peek, the tokens each member needs left."""

    limiter: Limiter | NoLimiter | CompoundLimiter
    tokens: Any
    quotas: tuple[Quota | None, ...]
    needs: tuple[int, ...] | None = None


def _waits(found: Sequence[object]) -> bool:
    return any(type(item) is not str and inspect.isawaitable(item) for item in found)


async def _awaited(found: Sequence[object]) -> list[object]:
    return [await item if inspect.isawaitable(item) else item for item in found]


def _short(result: RateLimit, need: int) -> RateLimit:
    """A peeked `result` as a refusal of a request needing `need` tokens: it may retry when
    one token is back (for one) or when the limit is full again (for more)."""
    wait = result.retry_after if need == 1 else result.reset_after
    return result._replace(accepted=False, retry_after=wait)


class RequestLimiter:
    """The request side of one integration: options validated once, then `check(request)`
    (or `await acheck(request)`) gives the `Decision` for each request.

    Takes the shared options as `Options` or as keywords (`limits`, `rules`, `storage`,
    `headers`, `trusted_proxies`, `fail_open`, `key`, `enabled`, `ipv6_prefix`,
    `proxy_header`), plus a `lock` for user storages and a `clock` for tests. The storage
    defaults to a private in-memory one. `needs_request` says whether a key function wants
    the framework's request object, `needs_user` whether a rule counts by user,
    `needs_headers` whether a rule's key reads the request's headers;
    `never_waits` that the storage decides without I/O, so `acheck` calls it directly, and
    `decides_now` that a request checked against the global rules alone is decided by
    `solo_check` with nothing to await.
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
        self.lock = check_lock(lock)
        self.clock = clock
        self.storage: Any = (
            InMemoryStorage(clock=clock) if options.storage is None else options.storage
        )
        self.one_limit_headers = one_limit_headers(self.styles)
        every = (*options.limits, *options.rules)
        self.exempt = tuple(rule for rule in every if rule.exempt)
        self.rules = tuple(self.bind(rule) for rule in every if not rule.exempt)
        self.needs_request = any(callable(bound.key) for bound in self.rules)
        self.needs_user = any(bound.key in USER_KEYS for bound in self.rules)
        self.needs_headers = any(self.reads_headers(bound.key) for bound in self.rules)
        self.never_waits = lock is None and getattr(self.storage, "never_waits", False) is True
        self.unconditional = not self.exempt and all(
            bound.rule.methods is None and not bound.rule.paths for bound in self.rules
        )
        self.failures = FailureLog(log, (clock or SystemClock()).now)
        self.solo = self._solo()
        self.decides_now = self.never_waits and self.solo is not None
        self._view_rule = lru_cache(maxsize=VIEW_RULES_KEPT)(self.bind)
        self._static_rule = lru_cache(maxsize=VIEW_RULES_KEPT)(self._bind_static)

    def _solo(self) -> BoundRule | None:
        only = self.rules[0] if len(self.rules) == 1 else None
        if only is None or not (self.enabled and self.unconditional) or len(only.limits) != 1:
            return None
        return None if callable(only.key) or only.key in USER_KEYS else only

    def reads_headers(self, key: KeySpec) -> bool:
        """Whether the key `key` reads the request's headers: a header key, and an address
        behind trusted proxies (a callable key reads the framework's request instead)."""
        if callable(key):
            return False
        return key.startswith("header:") or (key in ADDRESS_KEYS and bool(self.client.networks))

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

    def _bind_static(self, limit: ViewLimit, view: str) -> BoundRule:
        return self.bind(limit.rule(view))

    def view_rule(self, limit: ViewLimit, view: str, request: object = None) -> BoundRule:
        """The bound rule `limit` is on the view named `view` (for `request`, which a limit
        that is a callable is given); a limit with one value is bound once per view."""
        if callable(limit.limit):
            return self._view_rule(limit.rule(view, request))
        return self._static_rule(limit, view)

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

    def pending(self, request: RequestView, view: ViewLimits = GLOBAL) -> Pending | None:
        """Step one of a decision: the global rules `request` matches (unless
        `view.global_limits` is False) and the limits of `view` that cover its method, each
        with its key as found and its tokens (none for a peek, which records what each would
        need instead)."""
        rules = self.matching(request) if view.global_limits else ()
        if not view.limits and not view.peek:
            if not rules:
                return None
            return Pending(rules, [bound.find(request) for bound in rules])
        if not self.enabled:
            return None
        every = list(rules)
        costs = [bound.rule.cost for bound in every]
        method, path, framework_request = request.method, request.path, request.request
        for limit in view.limits:
            bound = self.view_rule(limit, view.name, framework_request)
            if bound.rule.matches(method, path):
                every.append(bound)
                costs.append(limit.tokens(bound.rule, framework_request))
        if not every:
            return None
        found = [bound.find(request) for bound in every]
        if view.peek:
            return Pending(every, found, [0] * len(every), [max(1, cost) for cost in costs])
        return Pending(every, found, costs)

    def plan(self, pending: Pending, keys: Sequence[object]) -> Plan | None:
        """Step two: the compound limiter for the pending rules and their keys (rules whose
        key is None do not apply); None when nothing is left to decide."""
        rules, _, costs, needs = pending
        if len(rules) == 1 and len(rules[0].limits) == 1 and needs is None:
            bound, key = rules[0], normalized_key(keys[0])
            if key is None:
                return None
            cost = bound.rule.cost if costs is None else costs[0]
            return Plan(bound.limits[0].limiter(key), cost, bound.quotas)
        limiters, tokens, quotas, wanted = [], [], [], []
        for number, (bound, found) in enumerate(zip(rules, keys, strict=True)):
            key = normalized_key(found)
            if key is None:
                continue
            cost = bound.rule.cost if costs is None else costs[number]
            for limit in bound.limits:
                limiters.append(limit.limiter(key))
                tokens.append(cost)
                quotas.append(limit.quota)
                if needs is not None:
                    wanted.append(needs[number])
        if not limiters:
            return None
        peek = tuple(wanted) if needs is not None else None
        if len(limiters) == 1:
            return Plan(limiters[0], tokens[0], tuple(quotas), peek)
        return Plan(CompoundLimiter(limiters), tuple(tokens), tuple(quotas), peek)

    def decision(self, plan: Plan, result: RateLimit) -> Decision:
        """Step three: the decision and headers for the compound `result` of `plan`."""
        quotas = plan.quotas
        if len(quotas) == 1 and plan.needs is None:
            return self.one(quotas[0], result)
        members = result.members or (result,)
        needs = plan.needs or (0,) * len(quotas)
        reports = tuple(
            [
                (quota, member if member.remaining >= need else _short(member, need))
                for quota, member, need in zip(quotas, members, needs, strict=True)
                if quota is not None
            ]
        )
        if plan.needs is None or not reports:
            return self.render(reports, result)
        return self.describe(reports)

    def one(self, quota: Quota | None, result: RateLimit) -> Decision:
        """The decision for the `result` of one limit, described by `quota`."""
        if quota is None:
            return self.render((), result)
        if result.accepted:
            headers = self.one_limit_headers(quota, result)
            return _tuple_new(Decision, (None, headers, result, (), None, ((quota, result),)))
        return self.render(((quota, result),), result)

    def solo_check(self, request: RequestView) -> Decision:
        """`check` for a limiter whose only rule has one limit and covers every request
        (`solo`) and a key found without waiting: no plan to build, one limiter to ask."""
        bound = self.solo
        if bound is None or request.method == WEBSOCKET:
            return self.check(request) if bound is None else PASS
        found = self.client.peer_key(request.peer) if bound.key == "ip" else None
        key = normalized_key(bound.find(request) if found is None else found)
        if key is None:
            return PASS
        limit = bound.limits[0]
        try:
            return self.one(limit.quota, limit.limiter(key).consume(bound.rule.cost))
        except Exception:
            return self.failed()

    def render(self, reports: tuple[Report, ...], result: RateLimit) -> Decision:
        """The decision for `result`, whose limits are described by `reports`."""
        if len(reports) == 1:
            headers = self.one_limit_headers(*reports[0])
        else:
            headers = tuple(rate_limit_headers(self.styles, reports))
        if result.accepted:
            return Decision(None, headers, result, (), None, reports)
        violated = tuple(dict.fromkeys(q.name for q, r in reports if not r.accepted))
        seconds = retry_seconds(result)
        retry = ("Retry-After", str(seconds))
        return Decision(429, (retry, *headers), result, violated, seconds, reports)

    def describe(self, reports: tuple[Report, ...]) -> Decision:
        """The decision whose limits are described by `reports` (several taken for one
        request, or peeks): one compound of their results."""
        if len(reports) == 1:
            return self.render(reports, reports[0][1])
        return self.render(reports, combine([result for _, result in reports]))

    def let_through(self, parts: Sequence[Decision]) -> Decision:
        """One decision describing every limit of `parts` for a request that was let through
        (a limit counted only after the response, as Flask's `deduct_when` does, is shown as
        it now stands but never as refusing a request already served)."""
        reports = tuple(
            (quota, result if result.accepted else result._replace(accepted=True))
            for part in parts
            for quota, result in part.reports
        )
        return self.describe(reports) if reports else parts[0]

    def combine(self, earlier: Decision | None, decision: Decision) -> Decision:
        """`decision` for a request that `earlier` (another check's, already taken; None or
        `PASS` when none applied) covered too: its headers describe the limits of both, so a
        response describes every limit that covered it."""
        if earlier is None:
            return decision
        if not decision.reports:
            return earlier if decision.status is None else decision
        if not earlier.reports:
            return decision
        try:
            return self.describe((*earlier.reports, *decision.reports))
        except Exception:
            return decision

    def failed(self) -> Decision:
        """The decision when the storage raised (or returned what cannot be rendered):
        through (fail_open) or 503, logged without a flood."""
        self.failures.failed(self.fail_open)
        return PASS if self.fail_open else Decision(503)

    def check(self, request: RequestView, view: ViewLimits = GLOBAL) -> Decision:
        """Decide for one request: the global rules it matches and the limits of its `view`
        as one compound limit, where a refusal by any takes nothing from the others. Sync
        frameworks: key functions must be sync."""
        if view is GLOBAL and self.solo is not None:
            return self.solo_check(request)
        pending = self.pending(request, view)
        if pending is None:
            return PASS
        plan = self.plan(pending, [key_now(found) for found in pending.found])
        if plan is None:
            return PASS
        try:
            return self.decision(plan, plan.limiter.consume(plan.tokens))
        except Exception:
            return self.failed()

    async def acheck(self, request: RequestView, view: ViewLimits = GLOBAL) -> Decision:
        """`check` without blocking the event loop: async key functions and user lookups are
        awaited, and the storage's async path is used unless it `never_waits`."""
        if view is GLOBAL and self.decides_now:
            return self.solo_check(request)
        pending = self.pending(request, view)
        if pending is None:
            return PASS
        found = pending.found
        plan = self.plan(pending, await _awaited(found) if _waits(found) else found)
        if plan is None:
            return PASS
        try:
            if self.never_waits:
                return self.decision(plan, plan.limiter.consume(plan.tokens))
            return self.decision(plan, await plan.limiter.aconsume(plan.tokens))
        except Exception:
            return self.failed()

    def reset(self, request: RequestView, view: ViewLimits) -> None:
        """Forget `request`'s counters of the limits of `view` (after a successful login,
        say)."""
        pending = self._reset_pending(request, view)
        plan = None if pending is None else self.plan(pending, list(map(key_now, pending.found)))
        if plan is not None:
            plan.limiter.reset()

    async def areset(self, request: RequestView, view: ViewLimits) -> None:
        """`reset` without blocking the event loop."""
        pending = self._reset_pending(request, view)
        plan = None if pending is None else self.plan(pending, await _awaited(pending.found))
        if plan is not None:
            await plan.limiter.areset()

    def _reset_pending(self, request: RequestView, view: ViewLimits) -> Pending | None:
        rules = [self.view_rule(limit, view.name, request.request) for limit in view.limits]
        if not rules:
            return None
        return Pending(rules, [bound.find(request) for bound in rules], [0] * len(rules))
