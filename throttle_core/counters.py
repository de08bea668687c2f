"""One counter of a running deployment: read it, reset it, and clear expired rows.

The `throttle inspect`, `throttle reset` and `throttle cleanup` commands are these functions
with a command line around them, and so are the framework integrations' own commands, so
every front end reports a counter the same way. A counter is named as a limiter names it:
the config id and the key as a rule computes it (`"api"`, `"203.0.113.7"`), stored under
the state id `RateLimiterFactory(config, storage).create(key)` uses.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from throttle_core.aio import call_async, call_sync
from throttle_core.clock import Clock, SystemClock
from throttle_core.duration import describe_interval
from throttle_core.errors import ConfigError
from throttle_core.factory import RateLimiterFactory, normalize_config, resolve_storage
from throttle_core.ids import state_id
from throttle_core.policies import (
    FixedWindow,
    FixedWindowState,
    SlidingWindow,
    SlidingWindowState,
    State,
    TokenBucketState,
    state_from_dict,
)
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
        state = self.state
        if state is None:
            return "nothing (the counter is full)"
        if state["type"] == "token_bucket":
            return (
                f"{state['tokens']:.3f} tokens of {state['limit']} "
                f"{seconds(max(0.0, self.now - state['timer']))} ago, refilling "
                f"{state['rate']:.4g} per second"
            )
        if state["type"] == "fixed_window":
            booked = sum(state["hits"]) - self.used if len(state["hits"]) > 1 else 0
            text = f"{self.used} hits in the current {seconds(state['interval'])} window"
            return text + (f", {booked} booked in later windows" if booked > 0 else "")
        return (
            f"estimate {self.used} (previous window {state['previous']}, current "
            f"{state['current']}, windows of {seconds(state['interval'])})"
        )


def describe_config(config: Mapping[str, Any]) -> str:
    """A normalized config for people: "fixed_window, 10 per minute (first-hit windows)"."""
    policy = config["policy"]
    if policy == "no_limit":
        return "no_limit"
    if policy == "token_bucket":
        rate = config["rate"]
        per = _period(rate["interval"])
        return f"token_bucket, burst {config['limit']}, refilled {rate['amount']} per {per}"
    text = f"{policy}, {config['limit']} per {_period(config['interval'])}"
    return text + (" (first-hit windows)" if config.get("align") == "first_hit" else "")


def _period(interval: float) -> str:
    return describe_interval(interval).replace("-", " ")


def seconds(value: float) -> str:
    """A duration for people: "0.25 s", "42 s", "3 min 20 s", "2 h 5 min"."""
    if value < 60:
        return f"{value:.3g} s" if value < 10 else f"{value:.0f} s"
    minutes, secs = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


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


def _decoded(stored: Any, notes: list[str]) -> State | None:
    """What a storage's `fetch` returned, as a built-in state (its dict form is rebuilt)."""
    if stored is None:
        return None
    try:
        state = state_from_dict(stored) if isinstance(stored, Mapping) else stored
    except ValueError as error:
        notes.append(f"the stored value is undecodable ({error}); a limiter treats it as absent")
        return None
    if not isinstance(state, TokenBucketState | FixedWindowState | SlidingWindowState):
        notes.append(f"the storage holds a {type(state).__name__}, not a limiter state")
        return None
    return state


def _bucket_config(id: str, state: State | None) -> dict[str, Any] | None:
    """A token bucket's state carries its limit and rate: the config it was decided under."""
    if not isinstance(state, TokenBucketState):
        return None
    return normalize_config({
        "policy": "token_bucket", "id": id, "limit": state.limit,
        "rate": {"interval": state.limit / state.rate, "amount": state.limit},
    })  # fmt: skip


def _mismatches(state: State | None, config: dict[str, Any] | None) -> list[str]:
    if state is None or config is None:
        return []
    if state.type != config["policy"]:
        return [
            f"the stored state is a {state.type}'s but the limit given is a {config['policy']}:"
            f" that limiter would ignore the state and start afresh (figures are for it)"
        ]
    if isinstance(state, FixedWindowState | SlidingWindowState):
        if state.interval != config["interval"]:
            return [
                f"the stored window is {seconds(state.interval)} long but the limit's is "
                f"{seconds(config['interval'])}"
            ]
    elif isinstance(state, TokenBucketState) and state.limit != config["limit"]:
        return [f"the stored bucket's burst is {state.limit} but the limit's is {config['limit']}"]
    return []


def _from_state(state: State | None, now: float) -> tuple[int, float]:
    """What counts against the limit at `now` and the seconds until nothing does, from the
    state alone (neither depends on the limit, which a window's state does not carry)."""
    if state is None:
        return 0, 0.0
    if isinstance(state, TokenBucketState):
        available = min(float(state.limit), state.tokens + max(0.0, now - state.timer) * state.rate)
        return state.limit - max(0, math.floor(available)), (state.limit - available) / state.rate
    if isinstance(state, FixedWindowState):
        # A stored state's windows read the same in either alignment.
        window = FixedWindow(1, state.interval, "first_hit")
        start, hits = window.windows(state, now)
        return hits[0], window.result(True, start, hits, 0.0, now).reset_after
    sliding = SlidingWindow(1, state.interval)
    start, previous, current = sliding.windows(state, now)
    reset = sliding.result(True, start, previous, current, 0.0, now).reset_after
    return sliding.estimate(start, previous, current, now), reset


def _report(
    id: str,
    key: str | None,
    sid: str,
    state: State | None,
    config: dict[str, Any] | None,
    rate_limit: RateLimit | None,
    now: float,
    notes: list[str],
) -> CounterReport:
    expires = None if state is None else state.timer + state.expiration_time
    used, reset = _from_state(state, now)
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
    storage: Any, state: State | None, config: dict[str, Any], clock: Clock | None
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
    storage, sid, normalized = _prepare(storage, id, key, config)
    notes: list[str] = []
    state = _decoded(call_sync(storage, "fetch", sid), notes)
    normalized = normalized or _bucket_config(id, state)
    if normalized is None:
        return _report(id, key, sid, state, None, None, _now(clock), notes)
    peek = _peeker(storage, state, normalized, clock).create(key).consume(0)
    return _report(id, key, sid, state, normalized, peek, peek.now, notes)


async def ainspect_counter(
    storage: Any,
    id: str,
    key: str | None = None,
    config: Config | None = None,
    *,
    clock: Clock | None = None,
) -> CounterReport:
    """Async twin of `inspect_counter`."""
    storage, sid, normalized = _prepare(storage, id, key, config)
    notes: list[str] = []
    state = _decoded(await call_async(storage, "fetch", sid), notes)
    normalized = normalized or _bucket_config(id, state)
    if normalized is None:
        return _report(id, key, sid, state, None, None, _now(clock), notes)
    peek = await _peeker(storage, state, normalized, clock).create(key).aconsume(0)
    return _report(id, key, sid, state, normalized, peek, peek.now, notes)


def reset_counter(storage: Any, id: str, key: str | None = None) -> bool:
    """Delete the counter of config `id` and `key` (it is full again); return whether a live
    state was stored."""
    storage, sid, _ = _prepare(storage, id, key, None)
    found = _decoded(call_sync(storage, "fetch", sid), []) is not None
    call_sync(storage, "delete", sid)
    return found


async def areset_counter(storage: Any, id: str, key: str | None = None) -> bool:
    """Async twin of `reset_counter`."""
    storage, sid, _ = _prepare(storage, id, key, None)
    found = _decoded(await call_async(storage, "fetch", sid), []) is not None
    await call_async(storage, "delete", sid)
    return found


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
