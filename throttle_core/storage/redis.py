"""RedisStorage: every decision is one Lua script run where the state lives, one round trip."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import lru_cache
from importlib import import_module
from importlib.resources import files
from typing import Any, NamedTuple, cast
from urllib.parse import parse_qsl, unquote

from throttle_core.errors import ConfigError, missing_extra

try:
    from redis import Redis
    from redis.asyncio import Redis as AsyncRedis
    from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import NoScriptError, ResponseError
except ModuleNotFoundError as error:  # pragma: no cover - tested in a subprocess
    raise missing_extra("redis", error) from error
from throttle_core.policies import (
    SPECS,
    STATE_TYPES,
    LimiterPolicy,
    ServerPolicy,
    ServerSide,
)
from throttle_core.policies.base import Arg
from throttle_core.result import RateLimit
from throttle_core.storage.decoding import decode_state, dropped, foreign
from throttle_core.storage.url import parse_storage_url, redacted

log = logging.getLogger("throttle_core.storage")

DEFAULT_PREFIX = "throttle:"
REMEMBERED_IDS = 4096
"""How many state ids a storage keeps the key and JSON form of (forgotten all at once)."""


@dataclass(frozen=True, slots=True)
class LuaScript:
    """One policy's script: the shared head (common.lua) followed by the policy's own file."""

    text: str
    sha: str

    @classmethod
    def load(cls, source: str) -> LuaScript:
        text = COMMON + source
        return cls(text, hashlib.sha1(text.encode("utf-8")).hexdigest())


COMMON = (files("throttle_core.storage") / "lua" / "common.lua").read_text("utf-8")
"""The head every script shares."""
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


def json_string(text: str) -> str:
    """`text` as a JSON string, exactly as `json.dumps` writes it (plain text the cheap way)."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return json.dumps(text)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def is_async_client(client: Any) -> bool:
    """Whether `client` is a redis.asyncio client (plain or Cluster; Sentinel gives plain)."""
    return isinstance(client, AsyncRedis | AsyncRedisCluster)


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
        self._names: dict[str, tuple[str, str]] = {}

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

    # The seed's save/fetch/delete: JSON of `to_dict()`, expiring after `expiration_time`.

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
        return self.decision(call, run_script(self._client(False, "consume"), call))

    async def aconsume(
        self,
        policy: LimiterPolicy,
        id: str,
        tokens: int,
        max_wait: float | None,
        now: float | None,
    ) -> RateLimit:
        call = self.consume_call(policy, id, tokens, max_wait, now)
        return self.decision(call, await arun_script(self._client(True, "aconsume"), call))

    def refund(
        self, policy: LimiterPolicy, id: str, tokens: int, at: float, now: float | None
    ) -> RateLimit:
        call = self.refund_call(policy, id, tokens, at, now)
        return self.decision(call, run_script(self._client(False, "refund"), call))

    async def arefund(
        self, policy: LimiterPolicy, id: str, tokens: int, at: float, now: float | None
    ) -> RateLimit:
        call = self.refund_call(policy, id, tokens, at, now)
        return self.decision(call, await arun_script(self._client(True, "arefund"), call))

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
        key, name = self._names.get(id) or self._name(id)
        clock = "-" if now is None else repr(float(now))
        argv = f"{op} {tokens} {when} {clock} {plan.params} {name}"
        return ScriptCall(plan.script, key, argv, policy)  # type: ignore[arg-type]

    def _name(self, id: str) -> tuple[str, str]:
        """The key of state `id` and the id as JSON, remembered for the ids seen lately (a
        limiter's id comes back with every request of its client)."""
        if len(self._names) >= REMEMBERED_IDS:
            self._names.clear()
        names = self._names[id] = (self.key(id), json_string(id))
        return names

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


def run_script(client: Any, call: ScriptCall) -> Any:
    """EVALSHA, or EVAL once when the server has not cached the script (NOSCRIPT). A server
    that stopped being the primary has its connections dropped, so that a Sentinel-managed
    client asks Sentinel for the new primary on the next call."""
    script = call.script
    try:
        try:
            return client.execute_command("EVALSHA", script.sha, 1, call.key, call.argv)
        except NoScriptError:
            return client.execute_command("EVAL", script.text, 1, call.key, call.argv)
    except ResponseError as error:
        switch = not_primary(error)
        if switch is None:
            raise
        if hasattr(client, "connection_pool"):
            client.connection_pool.disconnect()
        raise switch from error


async def arun_script(client: Any, call: ScriptCall) -> Any:
    """Async twin of `run_script`."""
    script = call.script
    try:
        try:
            return await client.execute_command("EVALSHA", script.sha, 1, call.key, call.argv)
        except NoScriptError:
            return await client.execute_command("EVAL", script.text, 1, call.key, call.argv)
    except ResponseError as error:
        switch = not_primary(error)
        if switch is None:
            raise
        if hasattr(client, "connection_pool"):
            await client.connection_pool.disconnect()
        raise switch from error


# storage_from_url: redis://, rediss://, redis+cluster://, redis+sentinel://

CONNECT_TIMEOUT = 0.5
SOCKET_TIMEOUT = 0.5
"""Seconds a client built from a URL waits to connect, and for a reply, unless the URL's
`socket_connect_timeout` / `socket_timeout` say otherwise: a dead or hung server is then an
error within half a second (redis-py waits forever by default)."""
DEFAULT_RETRIES = 0
"""Retries of a failed call by a client built from a URL (the URL's `retries` option): none,
since a call that timed out may have run, and running a decision twice would count twice."""
MAX_SECONDS = 3600.0


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 < value <= MAX_SECONDS:
        raise ValueError("must be a number of seconds above 0, at most 3600")
    return value


def _count(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.strip().isdigit() or not low <= int(text) <= high:
            raise ValueError(f"must be an integer from {low} to {high}")
        return int(text)

    return parse


def _flag(text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false", "yes", "no", "1", "0", "on", "off"):
        raise ValueError("must be true or false")
    return lowered in ("true", "yes", "1", "on")


def _choice(*names: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.lower() not in names:
            raise ValueError(f"must be one of {', '.join(names)}")
        return text.lower()

    return parse


DB = _count(0, 2**31 - 1)
PORT = _count(1, 65535)
POOL_OPTIONS: dict[str, Callable[[str], Any]] = {
    "socket_timeout": _seconds,
    "socket_connect_timeout": _seconds,
    "socket_keepalive": _flag,
    "max_connections": _count(1, 1_000_000),
    "health_check_interval": _count(0, 86400),
    "protocol": _choice("2", "3"),
    "client_name": str,
    "retries": _count(0, 10),
}
"""Query-string options every URL form accepts, and how each is read."""
SCHEME_OPTIONS: dict[str, dict[str, Callable[[str], Any]]] = {
    "redis": POOL_OPTIONS | {"db": DB},
    "rediss": POOL_OPTIONS | {
        "db": DB, "ssl_cert_reqs": _choice("none", "optional", "required"), "ssl_ca_certs": str,
        "ssl_check_hostname": _flag,
    },
    "redis+cluster": POOL_OPTIONS,
    "redis+sentinel": POOL_OPTIONS | {"db": DB, "sentinel_username": str, "sentinel_password": str},
}  # fmt: skip


def storage_from_url(url: str, **options: Any) -> RedisStorage:
    """A `RedisStorage` for a Redis URL; its sync and asyncio clients are made on first use.

    Forms: `redis://[user:pass@]host:port/db`, `rediss://…` (TLS),
    `redis+cluster://host:port[,host:port…]`, and
    `redis+sentinel://[user:pass@]host:port[,host:port…]/service_name[/db]`; client options
    (`socket_timeout`, `socket_connect_timeout`, `retries`, `max_connections`, …) and `prefix`
    go in the query string. `options` (such as `prefix=`) go to `RedisStorage`.
    """
    scheme, parts = parse_storage_url(url)
    shown = redacted(url)
    if scheme not in SCHEME_OPTIONS:
        raise ConfigError(f"{shown!r} is not a redis://, rediss://, redis+cluster:// or "
                          "redis+sentinel:// URL")  # fmt: skip
    query: dict[str, Any] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name == "prefix":
            options.setdefault("prefix", value)
        elif name not in SCHEME_OPTIONS[scheme]:
            raise ConfigError(
                f"unknown option {name} in {shown!r}; {scheme}:// accepts prefix, "
                + ", ".join(sorted(SCHEME_OPTIONS[scheme]))
            )
        else:
            try:
                query[name] = SCHEME_OPTIONS[scheme][name](value)
            except ValueError as error:
                raise ConfigError(f"option {name}={value!r} in {shown!r} {error}") from None
    retries = query.pop("retries", DEFAULT_RETRIES)
    sentinel_auth = {
        name.removeprefix("sentinel_"): query.pop(name)
        for name in ("sentinel_username", "sentinel_password")
        if name in query
    }
    userinfo, _, netloc = parts.netloc.rpartition("@")
    port = 26379 if scheme == "redis+sentinel" else 6379
    hosts = [_host_port(shown, each, port) for each in netloc.split(",")]
    kwargs: dict[str, Any] = {
        "socket_connect_timeout": CONNECT_TIMEOUT, "socket_timeout": SOCKET_TIMEOUT,
        **_credentials(userinfo), **query,
    }  # fmt: skip
    path = [unquote(p) for p in parts.path.split("/") if p]
    if scheme in ("redis", "rediss"):
        if len(hosts) != 1:
            raise ConfigError(f"{shown!r} names several hosts; use redis+cluster:// or "
                              "redis+sentinel:// for more than one")  # fmt: skip
        if len(path) > 1:
            raise ConfigError(f"{shown!r}: the path is the database number, as in /0; "
                              f"got {parts.path!r}")  # fmt: skip
        if path:
            kwargs["db"] = _db(shown, path[0])
        kwargs.update(host=hosts[0][0], port=hosts[0][1], ssl=scheme == "rediss")
        return RedisStorage.lazy(
            lambda: Redis(**kwargs, retry=_retry(False, retries)),
            lambda: AsyncRedis(**kwargs, retry=_retry(True, retries)),
            **options,
        )
    if scheme == "redis+cluster":
        if path:
            raise ConfigError(f"{shown!r}: a Redis Cluster has no databases; drop the path")
        return RedisStorage.lazy(
            lambda: _cluster(False, hosts, kwargs, retries),
            lambda: _cluster(True, hosts, kwargs, retries),
            **options,
        )
    if not path or len(path) > 2:
        raise ConfigError(
            f"{shown!r} needs the monitored service's name as its path: "
            "redis+sentinel://host:26379/mymaster[/db]"
        )
    if len(path) == 2:
        kwargs["db"] = _db(shown, path[1])
    service = path[0]
    return RedisStorage.lazy(
        lambda: _sentinel_master(False, hosts, service, kwargs, sentinel_auth, retries),
        lambda: _sentinel_master(True, hosts, service, kwargs, sentinel_auth, retries),
        **options,
    )


def _host_port(url: str, netloc: str, default_port: int) -> tuple[str, int]:
    if netloc.startswith("["):
        host, _, rest = netloc[1:].partition("]")
        port = rest.removeprefix(":")
    else:
        host, _, port = netloc.partition(":")
    if not host:
        raise ConfigError(f"{url!r} has an empty host")
    try:
        return host, PORT(port) if port else default_port
    except ValueError:
        raise ConfigError(f"{url!r} has a bad port {port!r}: it must be 1 to 65535") from None


def _db(url: str, value: str) -> int:
    try:
        return DB(value)
    except ValueError:
        raise ConfigError(
            f"{url!r} has a bad database number {value!r}: it must be an integer ≥ 0"
        ) from None


def _credentials(userinfo: str) -> dict[str, str]:
    user, _, password = userinfo.partition(":")
    found = {"username": unquote(user), "password": unquote(password)}
    return {name: value for name, value in found.items() if value}


def _retry(is_async: bool, retries: int) -> Any:
    """redis-py's retry policy for a URL-built client: `retries` retries with short jittered
    backoff (none by default)."""
    from redis.backoff import ExponentialWithJitterBackoff, NoBackoff

    module: Any = import_module("redis.asyncio.retry" if is_async else "redis.retry")
    backoff = ExponentialWithJitterBackoff(cap=0.1, base=0.01) if retries else NoBackoff()
    return module.Retry(backoff, retries)


def _cluster(
    is_async: bool, hosts: list[tuple[str, int]], kwargs: dict[str, Any], retries: int
) -> Any:
    module: Any = import_module("redis.asyncio.cluster" if is_async else "redis.cluster")
    nodes = [module.ClusterNode(host, port) for host, port in hosts]
    return module.RedisCluster(startup_nodes=nodes, retry=_retry(is_async, retries), **kwargs)


def _sentinel_master(
    is_async: bool,
    hosts: list[tuple[str, int]],
    service: str,
    kwargs: dict[str, Any],
    sentinel_auth: dict[str, str],
    retries: int,
) -> Any:
    module: Any = import_module("redis.asyncio.sentinel" if is_async else "redis.sentinel")
    timeouts = {name: value for name, value in kwargs.items() if name.startswith("socket_")}
    retry = {"retry": _retry(is_async, retries)}
    sentinel = module.Sentinel(
        hosts, sentinel_kwargs=timeouts | sentinel_auth | retry, **kwargs, **retry
    )
    return sentinel.master_for(service)
