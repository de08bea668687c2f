"""Factories: validated config in, one limiter per key out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from throttle_core.clock import Clock
from throttle_core.compound import CompoundLimiter
from throttle_core.duration import Rate, parse_count, parse_interval, parse_limits
from throttle_core.errors import ConfigError
from throttle_core.ids import state_ids
from throttle_core.limiter import Limiter, NoLimiter
from throttle_core.policies import (
    ALIGNMENTS,
    FixedWindow,
    LimiterPolicy,
    SlidingWindow,
    TokenBucket,
)
from throttle_core.storage.base import is_atomic

FIELDS: dict[str, frozenset[str]] = {
    "token_bucket": frozenset({"policy", "id", "limit", "rate"}),
    "fixed_window": frozenset({"policy", "id", "limit", "interval", "align"}),
    "sliding_window": frozenset({"policy", "id", "limit", "interval"}),
    "no_limit": frozenset({"policy", "id"}),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "token_bucket": ("limit", "rate"),
    "fixed_window": ("limit", "interval"),
    "sliding_window": ("limit", "interval"),
    "no_limit": (),
}


def normalize_config(config: Mapping[str, Any] | str) -> dict[str, Any]:
    """Validate a config (dict, or a one-limit string) and return it with canonical values:
    numbers of seconds for intervals, `{"interval", "amount"}` for rates, `align` filled in."""
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
    if policy not in FIELDS:
        raise ConfigError(f"policy must be one of {', '.join(sorted(FIELDS))}; got {policy!r}")
    unknown = set(config) - FIELDS[policy]
    if unknown:
        raise ConfigError(f"{policy} config has unknown fields {sorted(unknown)}")
    limiter_id = config.get("id")
    if not isinstance(limiter_id, str) or not limiter_id:
        raise ConfigError(f"id must be a non-empty string, got {limiter_id!r}")
    for field in REQUIRED[policy]:
        if field not in config:
            raise ConfigError(f"{policy} config {limiter_id!r} needs {field!r}")
    out: dict[str, Any] = {"policy": policy, "id": limiter_id}
    if policy == "no_limit":
        return out
    out["limit"] = parse_count(config["limit"], "limit")
    if policy == "token_bucket":
        out["rate"] = Rate.coerce(config["rate"]).to_dict()
        return out
    out["interval"] = parse_interval(config["interval"])
    if policy == "fixed_window":
        align = config.get("align", "clock")
        if align not in ALIGNMENTS:
            raise ConfigError(f"align must be one of {', '.join(ALIGNMENTS)}; got {align!r}")
        out["align"] = align
    return out


def build_policy(config: Mapping[str, Any]) -> LimiterPolicy | None:
    """The policy object for a normalized config (None for `no_limit`)."""
    policy = config["policy"]
    if policy == "token_bucket":
        return TokenBucket(config["limit"], Rate.coerce(config["rate"]))
    if policy == "fixed_window":
        return FixedWindow(config["limit"], config["interval"], config["align"])
    if policy == "sliding_window":
        return SlidingWindow(config["limit"], config["interval"])
    return None


def resolve_storage(storage: Any) -> Any:
    """A storage object as given, or one built from a URL such as "memory://"."""
    if isinstance(storage, str):
        from throttle_core.storage.url import storage_from_url

        return storage_from_url(storage)
    if storage is None or not all(hasattr(storage, m) for m in ("save", "fetch", "delete")):
        raise ConfigError(
            f"storage must have save/fetch/delete (or be a storage URL), got {storage!r}"
        )
    return storage


class RateLimiterFactory:
    """Makes the limiter of one config for any key: `factory.create("user-123")`."""

    def __init__(
        self,
        config: Mapping[str, Any] | str,
        storage: Any,
        lock: Any = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.config = normalize_config(config)
        self.id: str = self.config["id"]
        self.policy = build_policy(self.config)
        self.storage = resolve_storage(storage) if self.policy is not None else storage
        self.lock = lock
        self.clock = clock
        self._atomic = is_atomic(self.storage)
        self._state_id = state_ids(self.id)

    @property
    def limit(self) -> int:
        return self.policy.limit if self.policy is not None else NoLimiter.limit

    def create(self, key: str | int | None = None) -> Limiter | NoLimiter:
        """The limiter for `key` (state id `<id>:<key>`, or `<id>` for no key; an int key is
        its decimal text, any other non-str a `TypeError`)."""
        sid = self._state_id(key)
        if self.policy is None:
            return NoLimiter(sid, clock=self.clock)
        return Limiter(
            sid, self.policy, self.storage, self.lock, clock=self.clock, atomic=self._atomic
        )


class CompoundRateLimiterFactory:
    """Makes a `CompoundLimiter` over several factories' limiters for one key."""

    def __init__(self, factories: Sequence[RateLimiterFactory]) -> None:
        if not factories:
            raise ConfigError("CompoundRateLimiterFactory needs at least one factory, got none")
        for factory in factories:
            if not isinstance(factory, RateLimiterFactory):
                raise ConfigError(f"expected RateLimiterFactory objects, got {factory!r}")
        self.factories = tuple(factories)

    def create(self, key: str | int | None = None) -> CompoundLimiter:
        return CompoundLimiter([factory.create(key) for factory in self.factories])
