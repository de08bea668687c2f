"""What every policy and state shares: the `Policy` protocol, state encoding, TTL rounding."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any, ClassVar, Protocol, TypeVar

from throttle_core.errors import InvalidStateError
from throttle_core.result import RateLimit

STATE_VERSION = 1


def ttl_seconds(seconds: float) -> int:
    """A state's `expiration_time`: the TTL rounded up, at least one second."""
    ttl = math.ceil(seconds)
    return ttl if ttl > 1 else 1


class StateBase:
    """Encoding shared by the policy states: `to_dict()` / `from_dict()` with "type" and "v".

    States are plain slotted dataclasses, cheap to build on every decision; nothing changes
    one in place: policies return a new state for every change.
    """

    __slots__ = ()
    type: ClassVar[str]

    @property
    def expiration_time(self) -> int:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type, "v": STATE_VERSION}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            data[f.name] = list(value) if isinstance(value, tuple) else value
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Any:
        """Rebuild a state of this class, raising `InvalidStateError` on anything malformed."""
        if not isinstance(data, dict) or data.get("type") != cls.type:
            raise InvalidStateError(f"not a {cls.type} state: {data!r:.200}")
        version = data.get("v")
        if type(version) is not int or version != STATE_VERSION:
            raise InvalidStateError(f"unsupported {cls.type} state version {data.get('v')!r}")
        values: dict[str, Any] = {}
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name not in data:
                raise InvalidStateError(f"{cls.type} state lacks {f.name!r}: {data!r:.200}")
            values[f.name] = _check(cls.type, f.name, str(f.type), data[f.name])
        return cls(**values)


def _check(kind: str, name: str, annotation: str, value: Any) -> Any:
    def bad() -> InvalidStateError:
        return InvalidStateError(f"{kind} state field {name!r} has a bad value {value!r:.100}")

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
    the decision; it raises `ReserveNotSupported` when a wait within `max_wait` cannot be
    booked. `refund` gives back tokens booked for time `at` and returns the state to store
    (None when there is nothing to give back).
    """

    name: ClassVar[str]
    limit: int
    state_type: ClassVar[type[Any]]

    def decide(
        self, id: str, state: S | None, now: float, tokens: int, max_wait: float | None
    ) -> tuple[S | None, RateLimit]: ...

    def refund(self, state: S | None, now: float, tokens: int, at: float) -> S | None: ...

    def window_seconds(self) -> float:
        """The period the limit is expressed over (used by rate-limit headers)."""
        ...
