"""RequestLimiter: every rule a request matches, decided as one compound limit, with headers.

The sync `check` and async `acheck` share everything but the two calls that may do I/O (key
functions and the storage); frameworks only translate requests in and decisions out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from throttle_core.clock import Clock
from throttle_core.compound import CompoundLimiter
from throttle_core.errors import ConfigError
from throttle_core.factory import RateLimiterFactory, resolve_storage
from throttle_core.http.addresses import ClientAddress
from throttle_core.http.decision import PASS, Decision
from throttle_core.http.headers import (
    DEFAULT_STYLES,
    Quota,
    header_styles,
    rate_limit_headers,
    retry_after,
)
from throttle_core.http.keys import KeySpec, Resolver, aresolve, check_key, resolve, resolver
from throttle_core.http.request import WEBSOCKET, RequestView
from throttle_core.http.rules import Rule
from throttle_core.limiter import Limiter, NoLimiter
from throttle_core.result import RateLimit
from throttle_core.storage.memory import InMemoryStorage

log = logging.getLogger("throttle_core.http")

LimitSpec = str | Mapping[str, Any] | Rule


LIMITERS_KEPT = 4096
"""Limiters a limit keeps for the keys it saw lately (all dropped when it has this many), so a
busy key costs no new objects per request."""


@dataclass(frozen=True, slots=True)
class BoundLimit:
    """One limit of a rule, ready to use: its factory, its quota in headers (None for a
    `no_limit` config, which headers leave out), and the limiters of recent keys."""

    factory: RateLimiterFactory
    quota: Quota | None
    limiters: dict[str, Limiter | NoLimiter] = field(default_factory=dict)

    def limiter(self, key: str) -> Limiter | NoLimiter:
        """The limiter for `key` (limiters hold no state of their own, so they are shared)."""
        found = self.limiters.get(key)
        if found is None:
            if len(self.limiters) >= LIMITERS_KEPT:
                self.limiters.clear()
            found = self.limiters[key] = self.factory.create(key)
        return found


@dataclass(frozen=True, slots=True)
class BoundRule:
    """A rule with its key function and factories, built once when the limiter is made."""

    rule: Rule
    key: KeySpec
    find: Resolver
    limits: tuple[BoundLimit, ...]
    quotas: tuple[Quota | None, ...]


class Plan(NamedTuple):
    """What one request must pass: one limiter (or a compound of several) and the tokens it
    takes (an int, or one count per member of a compound), with each limit's quota."""

    limiter: Limiter | NoLimiter | CompoundLimiter
    tokens: Any
    quotas: tuple[Quota | None, ...]


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be True or False, got {value!r}")
    return value


def _as_rules(limits: Iterable[LimitSpec] | str, rules: Iterable[Rule]) -> list[Rule]:
    items = [limits] if isinstance(limits, str | Mapping) else list(limits)
    found = [item if isinstance(item, Rule) else Rule(item) for item in items]
    for rule in rules:
        if not isinstance(rule, Rule):
            raise ConfigError(f"rules must be Rule objects, got {rule!r}")
        found.append(rule)
    return found


class RequestLimiter:
    """The request side of one integration: options validated once, then `check(request)`
    (or `await acheck(request)`) gives the `Decision` for each request.

    `limits` are rules for every request (limit strings, config dicts or `Rule`s), `rules`
    more `Rule`s; `storage` is a storage or storage URL (default: in memory); `headers` the
    header styles; `key` the default key of rules without one; `fail_open` lets requests
    through when the storage fails (else 503); `enabled=False` turns limiting off.
    `needs_request` says whether a key function wants the framework's request object.
    """

    def __init__(
        self,
        *,
        limits: Iterable[LimitSpec] | str = (),
        rules: Iterable[Rule] = (),
        storage: Any = None,
        headers: str | Sequence[str] | None = DEFAULT_STYLES,
        trusted_proxies: Iterable[str] | str = (),
        fail_open: bool = True,
        key: KeySpec = "ip",
        enabled: bool = True,
        ipv6_prefix: int = 64,
        proxy_header: str = "auto",
        lock: Any = None,
        clock: Clock | None = None,
    ) -> None:
        self.enabled = _flag(enabled, "enabled")
        self.fail_open = _flag(fail_open, "fail_open")
        self.key = check_key(key)
        self.styles = header_styles(headers)
        self.client = ClientAddress(
            trusted_proxies, ipv6_prefix=ipv6_prefix, proxy_header=proxy_header
        )
        self.storage = InMemoryStorage(clock=clock) if storage is None else resolve_storage(storage)
        every = _as_rules(limits, rules)
        self.exempt = tuple(rule for rule in every if rule.exempt)
        self.rules = tuple(self._bind(rule, lock, clock) for rule in every if not rule.exempt)
        self.needs_request = any(callable(bound.key) for bound in self.rules)
        self.never_waits = not self.needs_request and type(self.storage) is InMemoryStorage
        self.unconditional = not self.exempt and all(
            bound.rule.methods is None and not bound.rule.paths for bound in self.rules
        )

    def _bind(self, rule: Rule, lock: Any, clock: Clock | None) -> BoundRule:
        key = rule.key if rule.key is not None else self.key
        limits = []
        for config, counter_id in zip(rule.configs, rule.counter_ids(key), strict=True):
            factory = RateLimiterFactory(
                {**config, "id": counter_id}, self.storage, lock, clock=clock
            )
            policy = factory.policy
            quota = (
                None
                if policy is None
                else Quota(config["id"], policy.limit, policy.window_seconds())
            )
            limits.append(BoundLimit(factory, quota))
        quotas = tuple(limit.quota for limit in limits)
        return BoundRule(rule, key, resolver(key, self.client), tuple(limits), quotas)

    def matching(self, request: RequestView) -> Sequence[BoundRule]:
        """The rules that apply to `request` (none when it is exempt or limiting is off)."""
        if not self.enabled:
            return ()
        method, path = request.method, request.path
        if self.unconditional and method != WEBSOCKET:
            return self.rules
        if any(rule.matches(method, path) for rule in self.exempt):
            return ()
        return [bound for bound in self.rules if bound.rule.matches(method, path)]

    def plan(self, rules: Sequence[BoundRule], keys: Sequence[str | None]) -> Plan | None:
        """The compound limiter for the matched rules and their keys (rules whose key is None
        do not apply); None when nothing is left to decide."""
        if len(rules) == 1 and len(rules[0].limits) == 1:
            bound, key = rules[0], keys[0]
            if key is None:
                return None
            return Plan(bound.limits[0].limiter(key), bound.rule.cost, bound.quotas)
        limiters, costs, quotas = [], [], []
        for bound, key in zip(rules, keys, strict=True):
            if key is None:
                continue
            for limit in bound.limits:
                limiters.append(limit.limiter(key))
                costs.append(bound.rule.cost)
                quotas.append(limit.quota)
        if not limiters:
            return None
        if len(limiters) == 1:
            return Plan(limiters[0], costs[0], tuple(quotas))
        return Plan(CompoundLimiter(limiters), tuple(costs), tuple(quotas))

    def decision(self, plan: Plan, result: RateLimit) -> Decision:
        """The decision and headers for the compound `result` of `plan`."""
        reports = [
            (quota, member)
            for quota, member in zip(plan.quotas, result.members or (result,), strict=True)
            if quota is not None
        ]
        headers = rate_limit_headers(self.styles, reports) if self.styles else ()
        if result.accepted:
            return Decision(None, tuple(headers), result)
        violated = tuple(dict.fromkeys(q.name for q, r in reports if not r.accepted))
        retry = ("Retry-After", str(retry_after(result)))
        return Decision(429, (retry, *headers), result, violated)

    def failed(self) -> Decision:
        """The decision when the storage raised: through (fail_open) or 503; logged."""
        log.warning(
            "rate-limit storage failed; %s",
            "letting the request through (fail_open)" if self.fail_open else "answering 503",
            exc_info=True,
        )
        return PASS if self.fail_open else Decision(503)

    def check(self, request: RequestView) -> Decision:
        """Decide for one request (sync frameworks; key functions must be sync)."""
        rules = self.matching(request)
        if not rules:
            return PASS
        plan = self.plan(rules, [resolve(bound.find, request) for bound in rules])
        if plan is None:
            return PASS
        try:
            result = plan.limiter.consume(plan.tokens)
        except Exception:
            return self.failed()
        return self.decision(plan, result)

    async def acheck(self, request: RequestView) -> Decision:
        """Decide for one request without blocking the event loop. With built-in keys and the
        in-memory storage nothing can wait, so the decision is `check`'s, without a coroutine
        per layer."""
        if self.never_waits:
            return self.check(request)
        rules = self.matching(request)
        if not rules:
            return PASS
        plan = self.plan(rules, [await aresolve(bound.find, request) for bound in rules])
        if plan is None:
            return PASS
        try:
            result = await plan.limiter.aconsume(plan.tokens)
        except Exception:
            return self.failed()
        return self.decision(plan, result)
