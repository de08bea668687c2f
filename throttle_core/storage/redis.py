"""RedisStorage: every decision is one Lua script run where the state lives, one round trip."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any, NamedTuple, cast

from throttle_core.errors import ConfigError
from throttle_core.policies import (
    SPECS,
    STATE_TYPES,
    LimiterPolicy,
    ServerPolicy,
    ServerSide,
)
from throttle_core.policies.base import Arg
from throttle_core.redis_clients import (
    NoScriptError,
    RedisConnectionError,
    ResponseError,
    client_makers,
    is_async_client,
)
from throttle_core.result import RateLimit
from throttle_core.storage.coalescing import PerLoop
from throttle_core.storage.decoding import decode_state, dropped, foreign
from throttle_core.storage.redis_wire import Connections, Pipeline, command_head, is_plain, packed

log = logging.getLogger("throttle_core.storage")

DEFAULT_PREFIX = "throttle:"


HELPERS_HERE = "-- [common.lua]\n"
"""The line of a policy's Lua file where the shared helpers go, if not before the file: the
code above it (a common case that returns early) then does not pay for making their closures."""


@dataclass(frozen=True, slots=True)
class LuaScript:
    """One policy's script: the shared head (head.lua), then the policy's own file with the
    shared helpers (common.lua) at its `HELPERS_HERE` line or before it."""

    text: str
    sha: str
    evalsha: bytes
    """The RESP head of `EVALSHA sha 1`, to which a call appends its key and argument."""
    eval: bytes
    """The RESP head of `EVAL text 1`, for a server that has not cached the script."""

    @classmethod
    def load(cls, source: str) -> LuaScript:
        first, here, rest = source.partition(HELPERS_HERE)
        text = HEAD + first + COMMON + rest if here else HEAD + COMMON + source
        sha = hashlib.sha1(text.encode("utf-8")).hexdigest()
        return cls(
            text,
            sha,
            command_head("EVALSHA", sha, "1", arguments=5),
            command_head("EVAL", text, "1", arguments=5),
        )


HEAD, COMMON = (
    (files("throttle_core.storage") / "lua" / name).read_text("utf-8")
    for name in ("head.lua", "common.lua")
)
"""The head and the helpers every script shares."""
script_of = lru_cache(maxsize=None)(LuaScript.load)
"""The script of a policy's Lua text, made once."""
SCRIPTS = {
    name: script_of(server.lua)
    for name, spec in SPECS.items()
    if isinstance(server := getattr(spec.policy_type, "server", None), ServerSide)
}
"""The script of every policy that Redis can decide, by policy name."""


ACCEPTED = (b"1", "1")
NO_STATUS = (b"-", "-")
STATUS_REASONS = {
    "bad": "not a state's JSON",
    "range": "it holds numbers no decision writes (out of range, or times too far from now)",
    "kind": "the key holds another type of Redis value (a hash, list, set…), not a string",
}
"""What the scripts' status words mean, for the log."""


class PolicyScript(NamedTuple):
    """How Redis decides one policy object: its script and its parameters as the script
    reads them (the policy's `server_args()` as text), made once per policy object."""

    script: LuaScript
    params: str


def argument_text(value: Arg) -> str:
    """A script argument as text that Lua reads back exactly (floats by repr)."""
    return repr(float(value)) if isinstance(value, float) else str(value)


@lru_cache(maxsize=1024)
def policy_script(policy: Any) -> PolicyScript:
    """The `PolicyScript` deciding `policy`: any policy with a `server` side (Lua file,
    `server_args()`, `from_reply()`), built in or not."""
    server = getattr(type(policy), "server", None)
    if not isinstance(server, ServerSide) or not callable(getattr(policy, "from_reply", None)):
        raise TypeError(
            f"RedisStorage cannot decide a {type(policy).__name__} policy: it declares no "
            "server side (server, server_args(), from_reply())"
        )
    server_policy: ServerPolicy[Any] = policy
    params = " ".join(argument_text(value) for value in server_policy.server_args())
    return PolicyScript(script_of(server.lua), params)


class ScriptCall(NamedTuple):
    """Everything one EVALSHA needs, built without I/O so the sync and async paths share it."""

    script: LuaScript
    key: str
    argv: str
    policy: ServerPolicy[Any]

    def command(self, full: bool) -> bytes:
        """The call packed in RESP: EVALSHA, or EVAL of the script's text when `full`."""
        return packed(self.script.eval if full else self.script.evalsha, self.key, self.argv)

    def arguments(self, full: bool) -> tuple[str | int, ...]:
        """The call as `execute_command` arguments."""
        if full:
            return ("EVAL", self.script.text, 1, self.key, self.argv)
        return ("EVALSHA", self.script.sha, 1, self.key, self.argv)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class RedisStorage:
    """Limiter states in Redis, each decided atomically by its policy's Lua script.

    `client` is a `redis.Redis`, `redis.asyncio.Redis`, a `RedisCluster` (either flavour) or a
    Sentinel-managed client; sync methods need a sync client and `a`-methods an asyncio one
    (give both with `async_client=`). Keys are `prefix` + the state id with its per-request
    key part as the Cluster hash tag (see `key()`). Time is the server's `TIME` unless the
    limiter passes its clock's reading.
    """

    def __init__(
        self, client: Any, prefix: str = DEFAULT_PREFIX, *, async_client: Any = None
    ) -> None:
        if (
            isinstance(client, type)
            or not callable(getattr(client, "execute_command", None))
            or (async_client is not None and is_async_client(client))
        ):
            raise ConfigError(
                "RedisStorage needs a redis client (and async_client=, if given, goes with a "
                f"sync one), got {client!r}"
            )
        if async_client is not None and not is_async_client(async_client):
            raise ConfigError(
                f"async_client must be a redis.asyncio client, got {async_client!r:.100}"
            )
        clients = {is_async_client(client): client}
        if async_client is not None:
            clients[True] = async_client
        self._setup(prefix, clients, {})

    def _setup(
        self, prefix: str, clients: dict[bool, Any], makers: dict[bool, Callable[[], Any]]
    ) -> None:
        if not isinstance(prefix, str) or "{" in prefix or "}" in prefix or len(prefix) > 200:
            raise ConfigError(
                "prefix must be a string of at most 200 characters without '{' or '}' "
                f"(RedisStorage places the Cluster hash tag itself), got {prefix!r:.60}"
            )
        self.prefix = prefix
        self._clients = clients
        self._makers = makers
        self._owned: list[Any] = []
        self._guard = threading.Lock()
        self._senders: dict[bool, tuple[Any, Sender]] = {}

    @classmethod
    def lazy(
        cls,
        make_sync: Callable[[], Any],
        make_async: Callable[[], Any],
        prefix: str = DEFAULT_PREFIX,
    ) -> RedisStorage:
        """A storage that makes (and owns) its clients on first use, as `from_url` does."""
        storage = cls.__new__(cls)
        storage._setup(prefix, {}, {False: make_sync, True: make_async})
        return storage

    def __repr__(self) -> str:
        return f"RedisStorage(prefix={self.prefix!r})"

    def key(self, id: str) -> str:
        """The Redis key of state `id`: `prefix` + `<config id>:{<key>}`, or `{<config id>}`
        for a limiter without a key. The braces are the Cluster hash tag, so every limit on
        one request key lands in one slot; `{` and `}` inside the id are written %7B and %7D
        so that no id can move or split the tag."""
        if "{" in id or "}" in id:
            id = id.replace("{", "%7B").replace("}", "%7D")
        config_id, sep, part = id.partition(":")
        if not sep:
            return f"{self.prefix}{{{config_id}}}"
        return f"{self.prefix}{config_id}:{{{part}}}"

    def _client(self, is_async: bool, method: str) -> Any:
        client = self._clients.get(is_async)
        if client is not None:
            return client
        make = self._makers.get(is_async)
        if make is None:
            if is_async:
                raise TypeError(
                    f"RedisStorage.{method}() needs a redis.asyncio client, but this storage "
                    f"holds a synchronous one: call {method[1:]}() (limiter.consume/reserve/"
                    "reset), or give RedisStorage(..., async_client=redis.asyncio.Redis(...))"
                )
            raise TypeError(
                f"RedisStorage.{method}() needs a synchronous redis client, but this storage "
                f"holds a redis.asyncio one: await a{method}() instead (limiter.aconsume/"
                "areserve/areset)"
            )
        with self._guard:
            client = self._clients.get(is_async)
            if client is None:
                client = self._clients[is_async] = make()
                self._owned.append(client)
        return client

    def _sender(self, is_async: bool, method: str) -> tuple[Any, Sender]:
        """The client for `method` and how script calls are sent to it (decided once)."""
        found = self._senders.get(is_async)
        if found is None:
            client = self._client(is_async, method)
            found = self._senders[is_async] = (client, sender(client))
        return found

    def close(self) -> None:
        """Close the synchronous client this storage made itself (from a URL)."""
        for client in self._owned:
            if not is_async_client(client):
                client.close()

    async def aclose(self) -> None:
        """Close the asyncio client this storage made itself (from a URL)."""
        for client in self._owned:
            if is_async_client(client):
                await client.aclose()

    # The storage interface: JSON of `to_dict()`, expiring after `expiration_time`.

    def save(self, state: Any) -> None:
        self._client(False, "save").set(
            self.key(state.id), encode_state(state), ex=state.expiration_time
        )

    async def asave(self, state: Any) -> None:
        await self._client(True, "asave").set(
            self.key(state.id), encode_state(state), ex=state.expiration_time
        )

    def fetch(self, id: str) -> Any:
        key = self.key(id)
        try:
            raw = self._client(False, "fetch").get(key)
        except ResponseError as error:
            return self._wrong_type(key, error)
        return decode_state(raw, f"under {key!r}")

    async def afetch(self, id: str) -> Any:
        key = self.key(id)
        try:
            raw = await self._client(True, "afetch").get(key)
        except ResponseError as error:
            return self._wrong_type(key, error)
        return decode_state(raw, f"under {key!r}")

    def delete(self, id: str) -> None:
        self._client(False, "delete").delete(self.key(id))

    async def adelete(self, id: str) -> None:
        await self._client(True, "adelete").delete(self.key(id))

    @staticmethod
    def _wrong_type(key: str, error: ResponseError) -> None:
        """A GET refused because another kind of value (a hash, a list…) holds the key."""
        if not str(error).startswith("WRONGTYPE"):
            raise error
        dropped(f"under {key!r}", STATUS_REASONS["kind"])

    # The atomic path: one EVALSHA per decision or refund.

    def consume(
        self,
        policy: LimiterPolicy,
        id: str,
        tokens: int,
        max_wait: float | None,
        now: float | None,
    ) -> RateLimit:
        call = self.consume_call(policy, id, tokens, max_wait, now)
        return self.decision(call, run_script(*self._sender(False, "consume"), call))

    async def aconsume(
        self,
        policy: LimiterPolicy,
        id: str,
        tokens: int,
        max_wait: float | None,
        now: float | None,
    ) -> RateLimit:
        call = self.consume_call(policy, id, tokens, max_wait, now)
        return self.decision(call, await arun_script(*self._sender(True, "aconsume"), call))

    def refund(
        self, policy: LimiterPolicy, id: str, tokens: int, at: float, now: float | None
    ) -> RateLimit:
        call = self.refund_call(policy, id, tokens, at, now)
        return self.decision(call, run_script(*self._sender(False, "refund"), call))

    async def arefund(
        self, policy: LimiterPolicy, id: str, tokens: int, at: float, now: float | None
    ) -> RateLimit:
        call = self.refund_call(policy, id, tokens, at, now)
        return self.decision(call, await arun_script(*self._sender(True, "arefund"), call))

    def consume_call(
        self,
        policy: LimiterPolicy,
        id: str,
        tokens: int,
        max_wait: float | None,
        now: float | None,
    ) -> ScriptCall:
        when = "-" if max_wait is None else repr(float(max_wait))
        return self._call("c", policy, id, tokens, when, now)

    def refund_call(
        self, policy: LimiterPolicy, id: str, tokens: int, at: float, now: float | None
    ) -> ScriptCall:
        return self._call("r", policy, id, tokens, repr(float(at)), now)

    def _call(
        self,
        op: str,
        policy: LimiterPolicy,
        id: str,
        tokens: int,
        when: str,
        now: float | None,
    ) -> ScriptCall:
        plan = policy_script(cast(Hashable, policy))
        clock = "-" if now is None else repr(float(now))
        argv = f"{op} {tokens} {when} {clock} {plan.params} {json.dumps(id)}"
        return ScriptCall(plan.script, self.key(id), argv, policy)  # type: ignore[arg-type]

    def decision(self, call: ScriptCall, reply: bytes | str) -> RateLimit:
        """The `RateLimit` of a script's reply line (accepted, now, retry_after, status, then
        the policy's fields; a refund's is a peek after it)."""
        fields = reply.split()
        if fields[3] not in NO_STATUS:
            self.report(call, fields[3])
        accepted, now, retry = fields[0] in ACCEPTED, float(fields[1]), float(fields[2])
        return call.policy.from_reply(accepted, now, retry, fields[4:])

    def report(self, call: ScriptCall, status: Any) -> None:
        """Log what a script skipped: see `STATUS_REASONS`, or another policy's state."""
        text = _text(status)
        where = f"under {call.key!r}"
        kind = text.removeprefix("other:")
        if kind in STATE_TYPES:
            foreign(where, kind, call.policy.name)
        elif text.startswith("other:"):
            dropped(where, f"unknown limiter state type {kind!r}")
        else:
            dropped(where, STATUS_REASONS.get(text, text))


def encode_state(state: Any) -> str:
    """The JSON a state is stored as; Python's float repr keeps every value exact."""
    return json.dumps(state.to_dict(), separators=(",", ":"))


def not_primary(error: ResponseError) -> RedisConnectionError | None:
    """The error to raise when a script was refused because its server is no longer (or not
    safely) the primary: NOREPLICAS under `min-replicas-to-write`, or READONLY. The script
    wrote nothing, and the caller sees a ConnectionError, as for any other lost server."""
    if not str(error).startswith(("NOREPLICAS", "READONLY")):
        return None
    return RedisConnectionError(
        f"the Redis server refused the decision while the primary changes ({error}); "
        "the next call reconnects"
    )


Sender = Callable[[ScriptCall, bool], Any]
"""Sends a call as EVALSHA (False) or as EVAL of the full text (True); its reply, or an
awaitable of it."""


def sender(client: Any) -> Sender:
    """How calls go to `client`: packed by hand on its pool's connections (pipelined for an
    asyncio client), or through `execute_command` for clients that route commands
    themselves (Cluster) or hold a single connection."""
    if not is_plain(client):
        return lambda call, full: client.execute_command(*call.arguments(full))
    if is_async_client(client):
        pipelines = PerLoop(lambda: Pipeline(client))
        return lambda call, full: pipelines.get().send(call.command(full))
    connections = Connections(client)
    return lambda call, full: connections.send(call.command(full))


def run_script(client: Any, send_call: Sender, call: ScriptCall) -> Any:
    """EVALSHA, or EVAL once when the server has not cached the script (NOSCRIPT). A server
    that stopped being the primary has its connections dropped, so that a Sentinel-managed
    client asks Sentinel for the new primary on the next call."""
    try:
        try:
            return send_call(call, False)
        except NoScriptError:
            return send_call(call, True)
    except ResponseError as error:
        switch = not_primary(error)
        if switch is None:
            raise
        if hasattr(client, "connection_pool"):
            client.connection_pool.disconnect()
        raise switch from error


async def arun_script(client: Any, send_call: Sender, call: ScriptCall) -> Any:
    """Async twin of `run_script`. An asyncio cluster client is initialized first: redis-py's
    RedisCluster, when many tasks use it before its first initialization has finished, may
    run a command twice or fail it."""
    if hasattr(client, "nodes_manager"):
        await client.initialize()
    try:
        try:
            return await send_call(call, False)
        except NoScriptError:
            return await send_call(call, True)
    except ResponseError as error:
        switch = not_primary(error)
        if switch is None:
            raise
        if hasattr(client, "connection_pool"):
            await client.connection_pool.disconnect()
        raise switch from error


def storage_from_url(url: str, **options: Any) -> RedisStorage:
    """A `RedisStorage` for a Redis URL (see `client_makers` for its forms and options); its
    sync and asyncio clients are made on first use. `options` (such as `prefix=`) go to
    `RedisStorage` and win over the URL's `prefix`."""
    make_sync, make_async, from_query = client_makers(url)
    return RedisStorage.lazy(make_sync, make_async, **{**from_query, **options})
