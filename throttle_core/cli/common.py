"""What several commands share: reading limits and storages from the command line, and the
errors a command reports as a message (exit status 1) rather than a traceback."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from throttle_core.errors import INSTALL_HINT, ThrottleError, not_installed

EXTRAS = {
    "redis": "redis", "psycopg": "postgres", "psycopg_pool": "postgres", "matplotlib": "plot",
}  # fmt: skip
"""The extra that installs each optional module a command may need."""


class CommandError(ThrottleError):
    """A command could not do its work; the message says why (exit status 1)."""


def missing_extra(error: ModuleNotFoundError) -> str | None:
    """The message for an optional dependency that is not installed, naming the extra that
    brings it (None for a module no extra brings)."""
    if INSTALL_HINT in str(error):
        return str(error)
    top = (error.name or "").split(".")[0]
    extra = EXTRAS.get(top)
    if extra is None:
        return None
    return not_installed(top, extra)


def runtime_errors() -> tuple[type[BaseException], ...]:
    """The errors a command turns into a message: ours, the operating system's, and those of
    the database clients already imported (a command that used none imports none)."""
    errors: list[type[BaseException]] = [ThrottleError, OSError]
    redis_exceptions = sys.modules.get("redis.exceptions")
    if redis_exceptions is not None:
        errors.append(redis_exceptions.RedisError)
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        errors.append(psycopg.Error)
    return tuple(errors)


def parse_limit(text: str) -> Any:
    """A LIMIT argument: a limit string ("10/minute", "10/second;1000/hour") as is, or a JSON
    config (an object, or an array of objects for a compound limit) decoded."""
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return text
    try:
        return json.loads(stripped)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not valid JSON ({error})") from None


def open_storage(parser: argparse.ArgumentParser, url: str) -> Any:
    """The storage a URL names (a malformed URL is a usage error); nothing connects yet."""
    from throttle_core.storage.url import storage_from_url

    try:
        return storage_from_url(url)
    except ThrottleError as error:
        parser.error(str(error))


@contextmanager
def closing_storage(storage: Any) -> Iterator[Any]:
    """Use `storage`, then close the clients or pools it made."""
    try:
        yield storage
    finally:
        close = getattr(storage, "close", None)
        if close is not None:
            close()
