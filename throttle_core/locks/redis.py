"""RedisLock: one lock shared by every process that talks to the same Redis server.

The lock logic is written once, sans-IO, as programs (throttle_core.programs): generators that
yield the Redis steps they need (claim the key on the servers, free it, pause) and receive the
replies, run by the same `run` and `arun` as the limiter's. `Redlock` (locks/redlock.py) runs
the same programs over several servers.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from itertools import count
from types import MappingProxyType
from typing import Any, ClassVar

from throttle_core.errors import ConfigError, LockError
from throttle_core.locks.base import (
    DEFAULT_TIMEOUT,
    DEFAULT_TTL,
    LockBase,
    backoff_delays,
    check_flag,
    check_seconds,
)
from throttle_core.programs import Effect, Program, arun, run
from throttle_core.redis_clients import RedisError, is_async_client

log = logging.getLogger("throttle_core.locks")

RELEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
"""Compare-and-delete: the key goes only if it still holds the releasing owner's token."""

CLOCK_SLACK = 0.002
"""Seconds taken off every lock's validity for the granularity of server expiry (as Redlock)."""

SERVER_ERRORS = (RedisError, OSError)
MAX_PREFIX = 200


@dataclass(frozen=True, slots=True)
class Free:
    """Compare-and-delete `name` on the servers at `targets` (None: all), if it still holds
    `token`."""

    name: str
    token: str
    targets: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """`SET name token NX PX ms` on every server; the replies come back in server order."""

    name: str
    token: str
    ms: int

    def undone(self) -> Free:
        """Freeing everywhere what this claim may have taken, as an interrupted claim must, so
        that it does not block everyone else for its whole ttl."""
        return Free(self.name, self.token)


@dataclass(frozen=True, slots=True)
class Held:
    """What an owner knows of a lock it took: its token, and until when (monotonic) it holds."""

    token: str
    valid_until: float


_HELD: ContextVar[Mapping[tuple[int, str], Held]] = ContextVar(
    "throttle_core_redis_locks", default=MappingProxyType({})
)
"""Locks held by the running thread or task, keyed by (lock instance, key). A context variable
is private to each thread and each asyncio task, so an owner only ever releases its own token.
A task started while a lock is held inherits it (as `asyncio.wait_for(lock.arelease(k), t)`
needs); the mapping is replaced, never mutated, so no other task sees the change."""

_INSTANCES = count()


class Server:
    """One Redis server as a lock uses it: the client, whether it is asyncio, the release script."""

    def __init__(self, client: Any) -> None:
        if isinstance(client, type) or not all(
            callable(getattr(client, m, None)) for m in ("set", "register_script")
        ):
            raise ConfigError(
                f"a Redis lock needs a redis-py client (redis.Redis or redis.asyncio.Redis), "
                f"got {client!r}"
            )
        self.client = client
        self.is_async = is_async_client(client)
        self.release = client.register_script(RELEASE_SCRIPT)

    def call(self, step: Claim | Free) -> Any:
        """Send `step` to this server: the reply, or an awaitable of it for an asyncio client."""
        if isinstance(step, Claim):
            return self.client.set(step.name, step.token, nx=True, px=step.ms)
        return self.release(keys=[step.name], args=[step.token])

    async def acall(self, step: Claim | Free) -> Any:
        if self.is_async:
            return await self.call(step)
        return await asyncio.to_thread(self.call, step)


def targets(step: Claim | Free, servers: Sequence[Server]) -> Sequence[Server]:
    if isinstance(step, Claim) or step.targets is None:
        return servers
    return [servers[i] for i in step.targets]


def outcome(server: Server, step: Claim | Free) -> Any:
    """The server's reply, or the error it failed with (a program decides what an error means)."""
    try:
        return server.call(step)
    except SERVER_ERRORS as error:
        return error


async def aoutcome(server: Server, step: Claim | Free) -> Any:
    try:
        return await server.acall(step)
    except SERVER_ERRORS as error:
        return error


def ask(servers: Sequence[Server], step: Claim | Free) -> list[Any]:
    """Send `step` to its servers one after the other: their outcomes in server order. A claim
    interrupted midway is freed everywhere before the interruption goes on."""
    try:
        return [outcome(server, step) for server in targets(step, servers)]
    except BaseException:
        if isinstance(step, Claim):
            for server in servers:
                outcome(server, step.undone())
        raise


async def aask(servers: Sequence[Server], step: Claim | Free) -> list[Any]:
    """Async twin of `ask`: all servers of a step asked at once."""
    try:
        return await asyncio.gather(*(aoutcome(s, step) for s in targets(step, servers)))
    except BaseException:
        if isinstance(step, Claim):
            undone = step.undone()
            await asyncio.shield(asyncio.gather(*(aoutcome(s, undone) for s in servers)))
        raise


def on(servers: Sequence[Server], step: Claim | Free) -> Effect:
    """The effect of sending `step` to `servers`."""
    return Effect(ask, aask, (servers, step))


def pause(seconds: float) -> Effect:
    """The effect of waiting `seconds` before the next attempt."""
    return Effect(time.sleep, asyncio.sleep, (seconds,))


class ServerLock(LockBase):
    """A lock granted by a quorum of Redis servers: `SET key token NX PX ttl` on each, and a
    compare-and-delete by Lua to release. `acquire` retries with jittered backoff for up to
    `timeout` seconds. Tokens are kept per thread and per asyncio task, so a lock shared by
    many workers releases only what the releasing worker took."""

    tolerates_server_errors: ClassVar[bool] = False
    """Whether a server that fails counts as a "no" (Redlock) or its error propagates."""

    def __init__(
        self,
        clients: Sequence[Any],
        prefix: str,
        timeout: float,
        drift_factor: float,
        raise_on_lost: bool,
    ) -> None:
        kind = type(self).__name__
        if not isinstance(prefix, str) or len(prefix) > MAX_PREFIX:
            raise ConfigError(
                f"{kind} prefix must be a string of at most {MAX_PREFIX} characters, "
                f"got {prefix!r:.60}"
            )
        if len({id(client) for client in clients}) != len(clients):
            raise ConfigError(f"{kind} was given the same client twice; each must be its own")
        self.timeout = check_seconds(timeout, f"{kind} timeout", ConfigError)
        if isinstance(drift_factor, bool) or not isinstance(drift_factor, int | float):
            raise ConfigError(f"{kind} drift_factor must be a number, got {drift_factor!r}")
        if not 0 <= drift_factor < 0.5:
            raise ConfigError(f"{kind} drift_factor must be in [0, 0.5), got {drift_factor!r}")
        self.servers = tuple(Server(client) for client in clients)
        self.prefix = prefix
        self.drift_factor = float(drift_factor)
        self.raise_on_lost = check_flag(raise_on_lost, f"{kind} raise_on_lost")
        self.quorum = len(self.servers) // 2 + 1
        self._instance = next(_INSTANCES)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(servers={len(self.servers)}, prefix={self.prefix!r})"

    def acquire(self, key: str, ttl: float = DEFAULT_TTL, *, timeout: float | None = None) -> bool:
        """Take the lock for `key` for `ttl` seconds, waiting up to `timeout` (default: the
        lock's) for its holder to let go; False if it could not be taken in that time."""
        self._refuse_async_clients("acquire")
        return run(self._acquire(key, ttl, timeout))

    async def aacquire(
        self, key: str, ttl: float = DEFAULT_TTL, *, timeout: float | None = None
    ) -> bool:
        return await arun(self._acquire(key, ttl, timeout))

    def release(self, key: str) -> None:
        """Give up the lock this thread or task holds for `key`. `LockError` if it holds none;
        a lock that expired before its release is logged (`LockError` with raise_on_lost)."""
        self._refuse_async_clients("release")
        run(self._release(key))

    async def arelease(self, key: str) -> None:
        await arun(self._release(key))

    def validity(self, key: str) -> float:
        """Seconds this thread or task can still count on holding `key` (0 if it holds none),
        by this process's clock, less the allowance for clock drift between servers."""
        held = _HELD.get().get((self._instance, key))
        return 0.0 if held is None else max(0.0, held.valid_until - time.monotonic())

    def _refuse_async_clients(self, method: str) -> None:
        if any(server.is_async for server in self.servers):
            kind = type(self).__name__
            raise TypeError(
                f"{kind}.{method}() cannot drive a redis.asyncio client; "
                f"use `await {kind}.a{method}(...)` (or give the lock a redis.Redis client)"
            )

    def _acquire(self, key: str, ttl: float, timeout: float | None) -> Program[bool]:
        ttl = check_seconds(ttl, "ttl")
        drift = ttl * self.drift_factor + CLOCK_SLACK
        if ttl <= drift:
            raise ValueError(f"ttl must be longer than the drift allowance {drift:g}s, got {ttl}")
        wait = self.timeout if timeout is None else check_seconds(timeout, "timeout")
        claim = Claim(self.prefix + key, uuid.uuid4().hex, math.ceil(ttl * 1000))
        deadline = time.monotonic() + wait
        for delay in backoff_delays():
            started = time.monotonic()
            replies = yield on(self.servers, claim)
            valid_until = started + ttl - drift
            granted = sum(reply is True for reply in replies)
            if granted >= self.quorum and time.monotonic() < valid_until:
                self._own(key, Held(claim.token, valid_until))
                return True
            maybe_ours = tuple(i for i, reply in enumerate(replies) if reply is not None)
            freed = []
            if maybe_ours:
                freed = yield on(self.servers, Free(claim.name, claim.token, maybe_ours))
            self._check([*replies, *freed])
            if time.monotonic() + delay > deadline:
                self._log_failures(key, replies)
                return False
            yield pause(delay)
        raise AssertionError("backoff_delays() never ends")  # pragma: no cover

    def _release(self, key: str) -> Program[None]:
        held = self._disown(key)
        name = self.prefix + key
        replies = yield on(self.servers, Free(name, held.token))
        self._check(replies)
        freed = sum(reply == 1 for reply in replies)
        if freed >= self.quorum:
            return
        message = (
            f"the {type(self).__name__} for {key!r} (Redis key {name!r}) expired before it was "
            f"released ({freed} of {len(self.servers)} servers still held it); another client "
            "may have held it meanwhile"
        )
        if self.raise_on_lost:
            raise LockError(message)
        log.warning("%s", message)

    def _check(self, replies: Sequence[Any]) -> None:
        if not self.tolerates_server_errors:
            for reply in replies:
                if isinstance(reply, BaseException):
                    raise reply

    def _log_failures(self, key: str, replies: Sequence[Any]) -> None:
        errors = [reply for reply in replies if isinstance(reply, BaseException)]
        if errors:
            log.warning(
                "%s could not take %r: %d of %d servers failed (last: %s)",
                type(self).__name__, key, len(errors), len(self.servers), errors[-1],
            )  # fmt: skip

    def _own(self, key: str, held: Held) -> None:
        _HELD.set(MappingProxyType({**_HELD.get(), (self._instance, key): held}))

    def _disown(self, key: str) -> Held:
        owned = dict(_HELD.get())
        held = owned.pop((self._instance, key), None)
        if held is None:
            raise LockError(
                f"cannot release the {type(self).__name__} for {key!r}: "
                "this thread or task does not hold it"
            )
        _HELD.set(MappingProxyType(owned))
        return held


class RedisLock(ServerLock):
    """A lock on one Redis server (or Cluster, or Sentinel-managed primary), shared by every
    process that uses that server: the lock for a key is the Redis key `prefix + key` holding
    the owner's random token until released or until its ttl runs out.

    Errors from the server propagate. Use `redis.Redis` with the sync methods and
    `redis.asyncio.Redis` with the async ones (`aacquire`, `arelease`, `awith_lock`, `ahold`).
    """

    def __init__(
        self,
        client: Any,
        prefix: str = "lock:",
        timeout: float = DEFAULT_TIMEOUT,
        *,
        raise_on_lost: bool = False,
    ) -> None:
        super().__init__([client], prefix, timeout, 0.0, raise_on_lost)
