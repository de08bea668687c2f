"""Redis clients: telling asyncio ones apart, and making them from redis:// URLs.

Both the Redis storage and the Redis locks use this; neither imports the other. It is also
the one place that imports redis-py, so that a missing `redis` extra is reported the same
way wherever it is needed: the Redis modules take redis-py's names from here.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any
from urllib.parse import parse_qsl, unquote

from throttle_core.errors import ConfigError, missing_extra

try:
    import redis
    import redis.asyncio
    from redis import Redis
    from redis.asyncio import Redis as AsyncRedis
    from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import NoScriptError, RedisError, ResponseError
except ModuleNotFoundError as error:  # pragma: no cover - tested in a subprocess
    raise missing_extra("redis", error) from error

__all__ = [
    "AsyncRedis",
    "NoScriptError",
    "Redis",
    "RedisConnectionError",
    "RedisError",
    "ResponseError",
    "client_makers",
    "is_async_client",
    "redis",
]


def is_async_client(client: Any) -> bool:
    """Whether `client` is a redis.asyncio client (plain or Cluster; Sentinel gives plain)."""
    return isinstance(client, AsyncRedis | AsyncRedisCluster)


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


def client_makers(url: str) -> tuple[Callable[[], Any], Callable[[], Any], dict[str, str]]:
    """The makers of the sync and the asyncio client a Redis URL describes, and the options
    its query string holds for the storage itself (`prefix`); `ConfigError` on a bad URL.

    Forms: `redis://[user:pass@]host:port/db`, `rediss://…` (TLS),
    `redis+cluster://host:port[,host:port…]`, and
    `redis+sentinel://[user:pass@]host:port[,host:port…]/service_name[/db]`; client options
    (`socket_timeout`, `socket_connect_timeout`, `retries`, `max_connections`, …) go in the
    query string.
    """
    from throttle_core.storage.url import parse_storage_url, redacted

    options: dict[str, str] = {}
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
        return (
            lambda: Redis(**kwargs, retry=_retry(False, retries)),
            lambda: AsyncRedis(**kwargs, retry=_retry(True, retries)),
            options,
        )
    if scheme == "redis+cluster":
        if path:
            raise ConfigError(f"{shown!r}: a Redis Cluster has no databases; drop the path")
        return (
            lambda: _cluster(False, hosts, kwargs, retries),
            lambda: _cluster(True, hosts, kwargs, retries),
            options,
        )
    if not path or len(path) > 2:
        raise ConfigError(
            f"{shown!r} needs the monitored service's name as its path: "
            "redis+sentinel://host:26379/mymaster[/db]"
        )
    if len(path) == 2:
        kwargs["db"] = _db(shown, path[1])
    service = path[0]
    return (
        lambda: _sentinel_master(False, hosts, service, kwargs, sentinel_auth, retries),
        lambda: _sentinel_master(True, hosts, service, kwargs, sentinel_auth, retries),
        options,
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
