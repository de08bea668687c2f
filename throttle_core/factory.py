"""Factories: validated config in, one limiter per key out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from throttle_core.clock import Clock, check_clock
from throttle_core.compound import CompoundLimiter
from throttle_core.errors import ConfigError
from throttle_core.ids import state_ids
from throttle_core.limiter import Decider, Limiter, NoLimiter
from throttle_core.limits import parse_limits
from throttle_core.locks.base import BasicLock, check_lock
from throttle_core.policies import SPECS, LimiterPolicy
from throttle_core.storage.base import Storage
from throttle_core.storage.url import resolve_storage as resolve_storage


def normalize_config(config: Mapping[str, Any] | str) -> dict[str, Any]:
    """Validate a config (dict, or a one-limit string) and return it with canonical values:
    numbers of seconds for intervals, `{"interval", "amount"}` for rates, defaults filled in."""
    if isinstance(config, str):
        configs = parse_limits(config)
        if len(configs) != 1:
            raise ConfigError(
                f"{config!r} holds {len(configs)} limits; use CompoundRateLimiterFactory "
                "(or parse_limits) for several"
            )
        return configs[0]
    if not isinstance(config, Mapping):
        raise ConfigError(f"a limiter config must be a dict or limit string, got {config!r}")
    policy = config.get("policy")
    spec = SPECS.get(policy) if isinstance(policy, str) else None
    if spec is None:
        raise ConfigError(f"policy must be one of {', '.join(sorted(SPECS))}; got {policy!r}")
    return spec.normalize(config)


def build_policy(config: Mapping[str, Any]) -> LimiterPolicy | None:
    """The policy object for a normalized config (None for `no_limit`)."""
    policy: LimiterPolicy | None = SPECS[config["policy"]].build(config)
    return policy


def check_limit_fits(policy: LimiterPolicy, storage: object) -> None:
    """`ConfigError` if `storage` declares a `max_limit` below the policy's limit, so a limit
    the storage cannot hold is refused now rather than failing every request."""
    ceiling = getattr(storage, "max_limit", None)
    if isinstance(ceiling, int) and policy.limit > ceiling:
        raise ConfigError(
            f"limit {policy.limit} is more than {storage!r:.100} can hold (at most {ceiling})"
        )


class RateLimiterFactory:
    """Makes the limiter of one config for any key: `factory.create("user-123")`."""

    def __init__(
        self,
        config: Mapping[str, Any] | str,
        storage: Storage | str,
        lock: BasicLock | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.config = normalize_config(config)
        self.id: str = self.config["id"]
        self.policy = build_policy(self.config)
        if self.policy is not None or storage is not None:
            storage = resolve_storage(storage)
        if self.policy is not None:
            check_limit_fits(self.policy, storage)
        self.storage = storage
        self.lock = check_lock(lock)
        self.clock = check_clock(clock)
        self._decider = (
            None
            if self.policy is None
            else Decider(self.policy, storage, self.lock, clock=self.clock)
        )
        self._state_id = state_ids(self.id)

    @property
    def limit(self) -> int:
        return self.policy.limit if self.policy is not None else NoLimiter.limit

    def create(self, key: str | int | None = None) -> Limiter | NoLimiter:
        """The limiter for `key` (state id `<id>:<key>`, or `<id>` for no key; an int key is
        its decimal text, any other non-str a `TypeError`)."""
        if self._decider is None:
            return NoLimiter(self._state_id(key), clock=self.clock)
        return Limiter.bound(self._state_id(key), self._decider)


Limits = str | Sequence[RateLimiterFactory | Mapping[str, Any] | str]
"""What `CompoundRateLimiterFactory` combines: a limit string ("10/second, 1000/hour"), or a
list of factories, config dicts and limit strings."""


class CompoundRateLimiterFactory:
    """Makes a `CompoundLimiter` over several limits for one key.

    `limits` is a list of `RateLimiterFactory` objects, or limit strings and config dicts that
    are made into factories with `storage`, `lock` and `clock` (a string may hold several
    limits, as "10/second, 1000/hour"; `id` names them as `parse_limits` does).
    """

    def __init__(
        self,
        limits: Limits,
        storage: Storage | str | None = None,
        lock: BasicLock | None = None,
        *,
        clock: Clock | None = None,
        id: str | None = None,
    ) -> None:
        items = [limits] if isinstance(limits, str) else limits
        if isinstance(items, Mapping) or not isinstance(items, Sequence):
            raise ConfigError(
                "limits must be a limit string or a list of factories, configs and limit "
                f"strings, got {limits!r:.100}"
            )
        if not items:
            raise ConfigError("CompoundRateLimiterFactory needs at least one limit, got none")
        factories: list[RateLimiterFactory] = []
        for item in items:
            if isinstance(item, RateLimiterFactory):
                factories.append(item)
                continue
            if not isinstance(item, str | Mapping):
                raise ConfigError(
                    "limits must hold RateLimiterFactory objects, config dicts or limit "
                    f"strings, got {item!r:.100}"
                )
            if storage is None:
                raise ConfigError(
                    f"storage is needed to make limiters from {item!r:.100} "
                    "(give storage=, or factories)"
                )
            configs = parse_limits(item, id=id) if isinstance(item, str) else [item]
            factories += [RateLimiterFactory(c, storage, lock, clock=clock) for c in configs]
        ids = [factory.id for factory in factories]
        shared = sorted({limit_id for limit_id in ids if ids.count(limit_id) > 1})
        if shared:
            raise ConfigError(
                f"several limits have the id {shared[0]!r} and would count on one state; "
                "give each its own id"
            )
        self.factories = tuple(factories)

    def create(self, key: str | int | None = None) -> CompoundLimiter:
        return CompoundLimiter([factory.create(key) for factory in self.factories])
