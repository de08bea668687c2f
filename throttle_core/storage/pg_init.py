"""`throttle pg-init URL [--table NAME]`: set up a PostgresStorage table from the command line.

Everything is imported through `postgres`, which says which extra to install when it is missing.
"""

from __future__ import annotations

from throttle_core.errors import ThrottleError
from throttle_core.storage.postgres import (
    DEFAULT_TABLE,
    PostgresStorage,
    psycopg,
    split_url,
    table_identifier,
)


def pg_target(url: str, table: str | None = None) -> tuple[str, str]:
    """The libpq conninfo and the table `pg_init` sets up (`table`, else the URL's `table`
    parameter, else the default); `ConfigError` for a URL or table name that does not parse."""
    conninfo, url_table = split_url(url)
    storage_table = table or url_table or DEFAULT_TABLE
    table_identifier(storage_table)
    return conninfo, storage_table


def pg_init(url: str, table: str | None = None) -> str:
    """Create the table, its index and decision functions; say what is ready."""
    conninfo, storage_table = pg_target(url, table)
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as connection:
            PostgresStorage(connection, storage_table).create_table()
    except psycopg.Error as error:
        raise ThrottleError(f"could not set up {storage_table!r}: {error}") from error
    return f"{storage_table}: table, expires_at index and decision function ready"
