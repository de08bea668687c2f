"""The storage interfaces: save/fetch/delete for any storage, the atomic consume of built-ins."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from throttle_core.policies import LimiterPolicy
    from throttle_core.result import RateLimit


@runtime_checkable
class LimiterState(Protocol):
    """What a storage holds: an id, a TTL in seconds from now, and a JSON-safe dict form."""

    @property
    def id(self) -> str: ...

    @property
    def expiration_time(self) -> int: ...

    def to_dict(self) -> dict[str, Any]: ...


@runtime_checkable
class Storage(Protocol):
    """A storage: save, fetch and delete, for the generic path (lock → fetch → decide → save).

    Async twins (`asave`, `afetch`, `adelete`) are optional; without them the sync methods run
    in a worker thread, or are awaited if they are themselves coroutines (hence `object`:
    `None`, or an awaitable of it).
    """

    def save(self, state: Any) -> object: ...

    def fetch(self, id: str) -> Any: ...

    def delete(self, id: str) -> object: ...


@runtime_checkable
class AtomicStorage(Protocol):
    """A storage that runs the policy where the data lives, so one call is one exact decision.

    `consume` books `tokens` for state `id` under `policy` unless the wait exceeds `max_wait`
    (None: no bound) and returns the decision; `refund` gives back tokens booked for time `at`
    and returns what a peek reports afterwards (or None: a compound refusal then reports the
    tokens added back). `now` is the factory's clock reading, or None to use the storage's
    own (server) time.
    """

    def consume(
        self,
        policy: LimiterPolicy,
        id: str,
        tokens: int,
        max_wait: float | None,
        now: float | None,
    ) -> RateLimit: ...

    async def aconsume(
        self,
        policy: LimiterPolicy,
        id: str,
        tokens: int,
        max_wait: float | None,
        now: float | None,
    ) -> RateLimit: ...

    def refund(
        self, policy: LimiterPolicy, id: str, tokens: int, at: float, now: float | None
    ) -> RateLimit | None: ...

    async def arefund(
        self, policy: LimiterPolicy, id: str, tokens: int, at: float, now: float | None
    ) -> RateLimit | None: ...

    def delete(self, id: str) -> None: ...

    async def adelete(self, id: str) -> None: ...


def is_atomic(storage: object) -> bool:
    """Whether the limiter can hand decisions to `storage` (a wrapper may say it cannot)."""
    return isinstance(storage, AtomicStorage) and getattr(storage, "supports_atomic", True)
