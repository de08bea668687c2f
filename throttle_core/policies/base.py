"""What every policy and state shares: the `Policy` protocols, state encoding, TTL rounding."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from throttle_core.duration import MAX_COUNT, Rate, describe_seconds, parse_count
from throttle_core.errors import ConfigError, InvalidStateError
from throttle_core.messages import short
from throttle_core.result import RateLimit

if TYPE_CHECKING:
    from throttle_core.policies.spec import ServerSide

STATE_VERSION = 1
MAX_TTL_SECONDS = 10_000_000_000
"""No state lives longer than this (about 317 years), and no time a decision stores is further
than this from the time it was decided at: every expiry stays in range in every storage."""
MAX_STORED_COUNT = MAX_COUNT
"""No count a decision stores exceeds the largest limit, 2**53: every count is exact as a
double, in Lua and in JSON readers alike."""


def ttl_seconds(seconds: float) -> int:
    """A state's `expiration_time`: the TTL rounded up, at least one second, at most
    `MAX_TTL_SECONDS`."""
    if seconds >= MAX_TTL_SECONDS:
        return MAX_TTL_SECONDS
    ttl = math.ceil(seconds)
    return ttl if ttl > 1 else 1


def far_from(now: float | None, *times: float) -> str | None:
    """Why one of `times` cannot have been stored by a decision at `now` (None if none is more
    than `MAX_TTL_SECONDS` away, or when `now` is not known)."""
    if now is not None:
        for time in times:
            if not -MAX_TTL_SECONDS <= time - now <= MAX_TTL_SECONDS:
                return f"the time {time!r} is more than {MAX_TTL_SECONDS} s from now ({now!r})"
    return None


def count_problem(name: str, value: float, low: float = 0) -> str | None:
    """Why a stored count is out of what a decision can store (None when it is in range)."""
    if low <= value <= MAX_STORED_COUNT:
        return None
    return f"{name} {value!r} is outside [{low!r}, 2**53]"


def interval_mismatch(interval: float, config: Mapping[str, Any]) -> str | None:
    """Why a window of `config` is not the stored window of `interval` seconds, or None."""
    if interval == config["interval"]:
        return None
    return (
        f"the stored window is {describe_seconds(interval)} long but the limit's is "
        f"{describe_seconds(config['interval'])}"
    )


class RatedPolicy:
    """A policy configured by a burst, `limit`, and the `rate` at which it comes back (a
    token bucket, GCRA)."""

    def __init__(self, limit: int, rate: Rate) -> None:
        if not isinstance(rate, Rate):
            raise ConfigError(f"rate must be a Rate, got {rate!r:.60}")
        self.limit = parse_count(limit, "limit")
        self.rate = rate


class ClockWindows:
    """The clock-aligned windows of `interval` seconds: window k is [k·interval, (k+1)·interval).

    `start(now)` returns the same float object for every time in one window, so the states of
    every key decided in it share their `start` instead of holding a float each (24 bytes a
    key in memory).
    """

    __slots__ = ("_last", "interval")

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last = math.nan

    def start(self, now: float) -> float:
        """The start of the window holding `now`."""
        start = math.floor(now / self.interval) * self.interval
        if start == self._last:
            return self._last
        self._last = start
        return start


class StateBase:
    """Encoding shared by the policy states: `to_dict()` / `from_dict()` with "type" and "v".

    States are plain slotted dataclasses, cheap to build on every decision; nothing changes
    one in place: policies return a new state for every change.
    """

    __slots__ = ()
    type: ClassVar[str]
    id: str
    timer: float
    """When the state was last decided on: its expiry counts from here."""

    @property
    def expiration_time(self) -> int:
        raise NotImplementedError

    def problem(self, now: float | None = None) -> str | None:
        """Why no decision could have written this state (None when one could): a count or
        value out of range, or (given the time `now` it is read at) a time further from now
        than any TTL allows. Storages treat such a state as absent, in Python, Lua and SQL."""
        raise NotImplementedError

    def usage(self, now: float) -> tuple[int, float]:
        """What counts against the limit at `now` and the seconds until nothing does, read
        from the state alone (a window's state does not carry its limit)."""
        raise NotImplementedError

    def summary(self, now: float, used: int) -> str:
        """What is stored, for people ("3 hits in the current 1 min window")."""
        raise NotImplementedError

    def implied_config(self, id: str) -> dict[str, Any] | None:
        """The config (named `id`) this state was decided under, when the state carries all of
        it (a token bucket's does; a window's lacks its limit): None otherwise."""
        return None

    def mismatch(self, config: Mapping[str, Any]) -> str | None:
        """Why a limiter of `config` (this state's policy) reads the state otherwise than the
        one that wrote it, or None."""
        return None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type, "v": STATE_VERSION}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            data[f.name] = list(value) if isinstance(value, tuple) else value
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Any:
        """Rebuild a state of this class, raising `InvalidStateError` on anything malformed."""
        if not isinstance(data, Mapping) or data.get("type") != cls.type:
            raise InvalidStateError(f"not a {cls.type} state: {short(data)}")
        version = data.get("v")
        if type(version) is not int or version != STATE_VERSION:
            raise InvalidStateError(f"unsupported {cls.type} state version {data.get('v')!r}")
        values: dict[str, Any] = {}
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name not in data:
                raise InvalidStateError(f"{cls.type} state lacks {f.name!r}: {short(data)}")
            values[f.name] = _check(cls.type, f.name, str(f.type), data[f.name])
        state = cls(**values)
        problem = state.problem()
        if problem is not None:
            raise InvalidStateError(f"{cls.type} state: {problem}")
        return state


def _check(kind: str, name: str, annotation: str, value: Any) -> Any:
    def bad() -> InvalidStateError:
        return InvalidStateError(f"{kind} state field {name!r} has a bad value {short(value)}")

    if annotation == "str":
        if not isinstance(value, str):
            raise bad()
        return value
    if annotation in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad()
        try:
            number = float(value)
        except OverflowError:
            raise bad() from None
        if not math.isfinite(number) or (annotation == "int" and number != int(number)):
            raise bad()
        return int(value) if annotation == "int" else number
    if annotation == "tuple[int, ...]":
        if not isinstance(value, list | tuple) or not value:
            raise bad()
        if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in value):
            raise bad()
        return tuple(value)
    raise bad()  # pragma: no cover - every state field has one of the types above


S = TypeVar("S")


class Policy(Protocol[S]):
    """A pure rate-limiting policy: `decide` and `refund` are functions of (state, now, tokens).

    `decide` returns the state to store (None when nothing changes: a refusal or a peek) and
    the decision; a refusal within `max_wait` is a booking when `books_ahead`, and otherwise
    only a refusal (the limiter's `reserve()` turns it into `ReserveNotSupported`). `refund`
    gives back tokens booked for time `at` and returns the state to store (None when there is
    nothing to give back).
    """

    name: ClassVar[str]
    books_ahead: ClassVar[bool]
    limit: int
    state_type: ClassVar[type[Any]]

    def decide(
        self, id: str, state: S | None, now: float, tokens: int, max_wait: float | None
    ) -> tuple[S | None, RateLimit]: ...

    def refund(self, state: S | None, now: float, tokens: int, at: float) -> S | None: ...

    def window_seconds(self) -> float:
        """The period the limit is expressed over (used by rate-limit headers)."""
        ...


Arg = int | float | str
"""A parameter of a server-side decision: a count, a number of seconds, or a word."""


class ServerPolicy(Policy[S], Protocol):
    """A policy that Redis and PostgreSQL can decide where the state lives: `server` says
    where its Lua and SQL are, `server_args()` gives the values they read (in the order of
    `server.params`), and `from_reply` builds the decision from a script's reply (accepted,
    the time decided at, retry_after, then the fields the script adds)."""

    server: ClassVar[ServerSide]

    def server_args(self) -> tuple[Arg, ...]: ...

    def from_reply(
        self, accepted: bool, now: float, retry: float, fields: Sequence[bytes | str]
    ) -> RateLimit: ...
