"""The example site's databases: the `DATABASES` entry a `DJANGO_SITE_DATABASE` value names,
and a PostgreSQL database made for a while and dropped afterwards (for the end-to-end tests
and the benchmarks, which run the site's storage on a database of their own)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured


def database(value: str) -> dict[str, Any]:
    """The `DATABASES` entry `DJANGO_SITE_DATABASE`'s value names: a `postgresql://` URL or a
    SQLite file's path; any other URL is an error naming the variable."""
    parts = urlsplit(value)
    if parts.scheme in ("postgresql", "postgres"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(f"DJANGO_SITE_DATABASE names no database: {value!r}")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            # Each worker keeps its connection instead of opening one per request.
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    if "://" in value:
        raise ImproperlyConfigured(
            f"DJANGO_SITE_DATABASE must be a SQLite file's path or a postgresql:// URL, "
            f"got {value!r}"
        )
    # Several workers write the counters: let a writer wait for the lock.
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": value, "OPTIONS": {"timeout": 20}}


@contextmanager
def scratch_database(server_url: str, name: str) -> Iterator[str]:
    """Create database `name` on the PostgreSQL server of `server_url` and give its URL;
    drop it afterwards, closing by force any connection left to it."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(server_url, autocommit=True) as admin:
        # template0 takes no connections, so no one else's session can block the copy.
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}", query=""))
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))
