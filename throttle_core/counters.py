"""One counter of a running deployment: read it, reset it, and clear expired rows.

The `throttle inspect`, `throttle reset` and `throttle cleanup` commands are these functions
with a command line around them, and so are the framework integrations' own commands, so
every front end reports a counter the same way. A counter is named as a limiter names it:
the config id and the key as a rule computes it (`"api"`, `"203.0.113.7"`), stored under
the state id `RateLimiterFactory(config, storage).create(key)` uses.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from throttle_core.clock import Clock, SystemClock
from throttle_core.duration import describe_seconds as seconds
from throttle_core.errors import ConfigError
from throttle_core.factory import RateLimiterFactory, normalize_config, resolve_storage
from throttle_core.ids import state_id
from throttle_core.policies import SPECS, StateBase, state_from_dict
from throttle_core.programs import Program, arun, calling, run
from throttle_core.result import RateLimit
from throttle_core.storage.memory import InMemoryStorage

Config = Mapping[str, Any] | str
"""A limit as everywhere else: a config dict or a one-limit string such as "10/minute"."""


@dataclass(frozen=True)
class CounterReport:
    """What is known of one counter at time `now`.

    `state` is the stored state's `to_dict()` (None when nothing live is stored: the counter
    is full). `used` is what counts against the limit now, read from the state alone (hits
    in the current fixed window, the sliding window's estimate, a bucket's missing tokens),
    and `reset_after` the seconds until nothing does.
    `rate_limit` is a peek (`consume(0)`, which changes nothing) under `config`: the
    remaining count, `retry_after` (when one token is available) and `reset_after`. It is
    None when no config was given and the state does not carry its limit (windows do not; a
    token bucket does). `expires_at` is when the storage drops the state (epoch seconds).
    """

    id: str
    key: str | None
    state_id: str
    now: float
    state: dict[str, Any] | None
    used: int
    reset_after: float
    expires_at: float | None
    config: dict[str, Any] | None
    rate_limit: RateLimit | None
    notes: tuple[str, ...] = field(default=())

    @property
    def policy(self) -> str | None:
        """The stored state's policy, else the config's (None when neither is known)."""
        if self.state is not None:
            return str(self.state["type"])
        return None if self.config is None else str(self.config["policy"])

    @property
    def remaining(self) -> int | None:
        return None if self.rate_limit is None else self.rate_limit.remaining

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-safe data (`throttle inspect --json`)."""
        result = self.rate_limit
        return {
            "id": self.id,
            "key": self.key,
            "state_id": self.state_id,
            "policy": self.policy,
            "now": self.now,
            "state": self.state,
            "used": self.used,
            "expires_at": self.expires_at,
            "expires_in": None if self.expires_at is None else self.expires_at - self.now,
            "config": self.config,
            "limit": None if result is None else result.limit,
            "remaining": None if result is None else result.remaining,
            "retry_after": None if result is None else result.retry_after,
            "reset_after": self.reset_after,
            "notes": list(self.notes),
        }

    def lines(self) -> list[str]:
        """The report as aligned `label  value` lines for a terminal."""
        rows = [("counter", self.state_id), ("policy", self._policy_text())]
        rows.append(("stored", self._stored_text()))
        result = self.rate_limit
        if result is not None:
            rows.append(("remaining", f"{result.remaining} of {result.limit} now"))
            retry = "now" if result.retry_after <= 0 else f"in {seconds(result.retry_after)}"
            rows.append(("next token", retry))
        elif self.state is None:
            rows.append(("remaining", "the whole limit (nothing is counted)"))
        else:
            rows.append(("remaining", "needs the limit: a stored window does not carry it"))
        if self.state is not None or result is not None:
            full = "now" if self.reset_after <= 0 else f"in {seconds(self.reset_after)}"
            rows.append(("full again", full))
        if self.expires_at is not None:
            rows.append(("expires", f"in {seconds(self.expires_at - self.now)}"))
        rows += [("note", note) for note in self.notes]
        width = max(len(label) for label, _ in rows)
        return [f"{label:<{width}}  {value}" for label, value in rows]

    def _policy_text(self) -> str:
        if self.config is None:
            return self.policy or "unknown (nothing stored and no limit given)"
        return describe_config(self.config)

    def _stored_text(self) -> str:
        if self.state is None:
            return "nothing (the counter is full)"
        return state_from_dict(self.state).summary(self.now, self.used)


def describe_config(config: Mapping[str, Any]) -> str:
    """A normalized config for people: "fixed_window, 10 per minute (first-hit windows)"."""
    return SPECS[config["policy"]].describe(config)


def counter_config(id: str, config: Config | None) -> dict[str, Any] | None:
    """`config` normalized and named `id` (a config's own id names a counter only when it
    matches: ID is what selects the counter); `ConfigError` on anything invalid."""
    if config is None:
        return None
    if isinstance(config, str):
        return normalize_config({**normalize_config(config), "id": id})
    if not isinstance(config, Mapping):
        raise ConfigError(f"a limit must be a limit string or a config dict, got {config!r}")
    own = config.get("id")
    if own is not None and own != id:
        raise ConfigError(f"the config's id {own!r} is not the counter's id {id!r}")
    return normalize_config({**config, "id": id})


def _decoded(stored: Any, notes: list[str]) -> StateBase | None:
    """What a storage's `fetch` returned, as a policy's state (its dict form is rebuilt)."""
    if stored is None:
        return None
    try:
        state = state_from_dict(stored) if isinstance(stored, Mapping) else stored
    except ValueError as error:
        notes.append(f"the stored value is undecodable ({error}); a limiter treats it as absent")
        return None
    if not isinstance(state, StateBase):
        notes.append(f"the storage holds a {type(state).__name__}, not a limiter state")
        return None
    return state


def _implied_config(id: str, state: StateBase | None) -> dict[str, Any] | None:
    """The config a state carries in full (a token bucket's), normalized; else None."""
    implied = None if state is None else state.implied_config(id)
    return None if implied is None else normalize_config(implied)


def _mismatches(state: StateBase | None, config: dict[str, Any] | None) -> list[str]:
    if state is None or config is None:
        return []
    if state.type != config["policy"]:
        return [
            f"the stored state is a {state.type}'s but the limit given is a {config['policy']}:"
            f" that limiter would ignore the state and start afresh (figures are for it)"
        ]
    mismatch = state.mismatch(config)
    return [] if mismatch is None else [mismatch]


def _report(
    id: str,
    key: str | None,
    sid: str,
    state: StateBase | None,
    config: dict[str, Any] | None,
    rate_limit: RateLimit | None,
    now: float,
    notes: list[str],
) -> CounterReport:
    expires = None if state is None else state.timer + state.expiration_time
    used, reset = (0, 0.0) if state is None else state.usage(now)
    return CounterReport(
        id, key, sid, now, None if state is None else state.to_dict(), used,
        reset if rate_limit is None else rate_limit.reset_after, expires, config, rate_limit,
        tuple(notes + _mismatches(state, config)),
    )  # fmt: skip


def _prepare(
    storage: Any, id: str, key: str | None, config: Config | None
) -> tuple[Any, str, dict[str, Any] | None]:
    if not isinstance(id, str) or not id:
        raise ConfigError(f"a counter id must be a non-empty string, got {id!r}")
    if key is not None and not isinstance(key, str):
        raise ConfigError(f"a counter key must be a string or None, got {key!r}")
    return resolve_storage(storage), state_id(id, key), counter_config(id, config)


def _peeker(
    storage: Any, state: StateBase | None, config: dict[str, Any], clock: Clock | None
) -> RateLimiterFactory:
    """The factory to peek with: on `storage`, unless it holds another policy's state, which a
    peek there could drop (the in-memory storage does); then on an empty storage, which is
    what that limiter would see."""
    if state is not None and state.type != config["policy"]:
        clock = clock or SystemClock()
        return RateLimiterFactory(config, InMemoryStorage(clock=clock), clock=clock)
    return RateLimiterFactory(config, storage, clock=clock)


def _now(clock: Clock | None) -> float:
    return time.time() if clock is None else clock.now()


def _inspection(
    storage: Any, id: str, key: str | None, config: Config | None, clock: Clock | None
) -> Program[CounterReport]:
    storage, sid, normalized = _prepare(storage, id, key, config)
    notes: list[str] = []
    state = _decoded((yield calling(storage, "fetch", sid)), notes)
    normalized = normalized or _implied_config(id, state)
    if normalized is None:
        return _report(id, key, sid, state, None, None, _now(clock), notes)
    peek = yield calling(_peeker(storage, state, normalized, clock).create(key), "consume", 0)
    return _report(id, key, sid, state, normalized, peek, peek.now, notes)


def _reset(storage: Any, id: str, key: str | None) -> Program[bool]:
    storage, sid, _ = _prepare(storage, id, key, None)
    found = _decoded((yield calling(storage, "fetch", sid)), []) is not None
    yield calling(storage, "delete", sid)
    return found


def inspect_counter(
    storage: Any,
    id: str,
    key: str | None = None,
    config: Config | None = None,
    *,
    clock: Clock | None = None,
) -> CounterReport:
    """Report the counter of config `id` and `key` in `storage`. With `config` (or a stored
    token bucket, which carries its limit) the report holds a peek at it under that limit,
    taken on the storage's own time as a limiter's decision would be; nothing is changed."""
    return run(_inspection(storage, id, key, config, clock))


async def ainspect_counter(
    storage: Any,
    id: str,
    key: str | None = None,
    config: Config | None = None,
    *,
    clock: Clock | None = None,
) -> CounterReport:
    """Async twin of `inspect_counter`."""
    return await arun(_inspection(storage, id, key, config, clock))


def reset_counter(storage: Any, id: str, key: str | None = None) -> bool:
    """Delete the counter of config `id` and `key` (it is full again); return whether a live
    state was stored."""
    return run(_reset(storage, id, key))


async def areset_counter(storage: Any, id: str, key: str | None = None) -> bool:
    """Async twin of `reset_counter`."""
    return await arun(_reset(storage, id, key))


def _cleanable(storage: Any, method: str) -> Any:
    storage = resolve_storage(storage)
    if not callable(getattr(storage, method, None)):
        raise ConfigError(
            f"{storage!r} has no {method}(): it drops expired states by itself (Redis and "
            "the in-memory storage do); only tables such as PostgresStorage's need cleaning"
        )
    return storage


def cleanup_expired(storage: Any) -> int:
    """Delete the expired states of a storage that keeps them in a table; return how many."""
    return int(_cleanable(storage, "cleanup").cleanup())


async def acleanup_expired(storage: Any) -> int:
    """Async twin of `cleanup_expired`."""
    return int(await _cleanable(storage, "acleanup").acleanup())
