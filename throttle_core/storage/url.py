"""storage_from_url: a storage from one URL, so settings files can name a backend."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import SplitResult, parse_qsl, urlsplit

from throttle_core.errors import ConfigError
from throttle_core.storage.base import Storage
from throttle_core.storage.memory import InMemoryStorage

if TYPE_CHECKING:
    from throttle_core.storage.postgres import PostgresStorage
    from throttle_core.storage.redis import RedisStorage

URLStorage: TypeAlias = "InMemoryStorage | RedisStorage | PostgresStorage"
"""What `storage_from_url` builds."""

_PASSWORD_PARAMETER = re.compile(r"((?:^|[\s&?])(?:sentinel_)?password\s*=\s*)[^\s&]+")
MEMORY_OPTIONS = {"max_keys": int}
"""The query options of memory:// URLs, with their types."""


def parse_storage_url(url: str) -> tuple[str, SplitResult]:
    """`url`'s scheme (lower-case) and its `urlsplit` parts; `ConfigError` for what cannot be
    parsed (such as an unclosed IPv6 bracket)."""
    if not isinstance(url, str):
        raise ConfigError(f"a storage URL must be a string, got {url!r:.100}")
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise ConfigError(f"storage URL {url!r} cannot be parsed: {error}") from None
    return parts.scheme.lower(), parts


def redacted(url: str) -> str:
    """`url` (or a libpq "key=value" conninfo) with its passwords written `***`, fit for error
    messages and logs."""
    url = _PASSWORD_PARAMETER.sub(r"\1***", url)
    head, at, tail = url.rpartition("@")
    if not at or "//" not in head:
        return url
    scheme, _, userinfo = head.partition("//")
    user, colon, _ = userinfo.partition(":")
    return f"{scheme}//{user}{':***' if colon else ''}@{tail}"


def storage_from_url(url: str, **options: Any) -> URLStorage:
    """Build a storage from "memory://", "redis://…", "rediss://…", "redis+cluster://…",
    "redis+sentinel://…" or "postgresql://…"; `options` go to the storage's constructor."""
    scheme, parts = parse_storage_url(url)
    if scheme == "memory":
        return _memory(url, parts.query, options)
    if scheme in ("redis", "rediss", "redis+cluster", "redis+sentinel"):
        from throttle_core.storage.redis import storage_from_url as redis_storage_from_url

        return redis_storage_from_url(url, **options)
    if scheme in ("postgresql", "postgres"):
        from throttle_core.storage.postgres import storage_from_url as postgres_storage_from_url

        return postgres_storage_from_url(url, **options)
    if "://" not in url:
        raise ConfigError(
            f"{url!r} is not a storage URL; give a storage object (such as InMemoryStorage()) "
            "or a URL: memory://, redis://, rediss://, redis+cluster://, redis+sentinel:// or "
            "postgresql://"
        )
    raise ConfigError(
        f"unsupported storage URL {url!r}; use memory://, redis://, rediss://, "
        "redis+cluster://, redis+sentinel:// or postgresql://"
    )


def _memory(url: str, query: str, options: dict[str, Any]) -> InMemoryStorage:
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in MEMORY_OPTIONS:
            raise ConfigError(
                f"unknown option {name} in {url!r}; memory:// accepts "
                + ", ".join(sorted(MEMORY_OPTIONS))
            )
        try:
            options.setdefault(name, MEMORY_OPTIONS[name](value))
        except ValueError:
            raise ConfigError(f"{name} in {url!r} must be an integer, got {value!r}") from None
    return InMemoryStorage(**options)


def resolve_storage(storage: object, field: str = "storage") -> Storage:
    """A storage object as given, or one built from a URL such as "memory://"; `ConfigError`
    naming `field` for anything else (a class instead of an instance, a number, None)."""
    if isinstance(storage, str):
        return storage_from_url(storage)
    if isinstance(storage, type):
        raise ConfigError(
            f"{field} must be a storage object, not the class {storage.__name__}; "
            f"write {storage.__name__}(...) or give a storage URL"
        )
    if not all(callable(getattr(storage, m, None)) for m in ("save", "fetch", "delete")):
        raise ConfigError(
            f"{field} must have save/fetch/delete (or be a storage URL), got {storage!r:.100}"
        )
    return storage  # type: ignore[return-value]
