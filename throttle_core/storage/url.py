"""storage_from_url: a storage from one URL, so settings files can name a backend."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from throttle_core.errors import ConfigError


def storage_from_url(url: str, **options: Any) -> Any:
    """Build a storage from "memory://", "redis://…", "rediss://…", "redis+cluster://…",
    "redis+sentinel://…" or "postgresql://…"; `options` go to the storage's constructor."""
    if not isinstance(url, str):
        raise ConfigError(f"a storage URL must be a string, got {url!r}")
    scheme = urlsplit(url).scheme.lower()
    if scheme == "memory":
        from throttle_core.storage.memory import InMemoryStorage

        query = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
        if "max_keys" in query:
            try:
                options.setdefault("max_keys", int(query["max_keys"]))
            except ValueError:
                raise ConfigError(f"max_keys in {url!r} must be an integer") from None
        return InMemoryStorage(**options)
    if scheme in ("redis", "rediss", "redis+cluster", "redis+sentinel"):
        from throttle_core.storage.redis import storage_from_url as redis_storage_from_url

        return redis_storage_from_url(url, **options)
    if scheme in ("postgresql", "postgres"):
        from throttle_core.storage.postgres import storage_from_url as postgres_storage_from_url

        return postgres_storage_from_url(url, **options)
    raise ConfigError(
        f"unsupported storage URL {url!r}; use memory://, redis://, rediss://, "
        "redis+cluster://, redis+sentinel:// or postgresql://"
    )
