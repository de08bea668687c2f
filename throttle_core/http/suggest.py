"""Errors for names nobody knows, with the closest known name ("LIMTS": did you mean LIMITS?)."""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches

from throttle_core.errors import ConfigError


def unknown_name(what: str, name: object, known: Iterable[str]) -> ConfigError:
    """The error for `name`, which is not one of `known`, naming the closest known one."""
    names = list(known)
    close = get_close_matches(str(name), names, n=1, cutoff=0.6) if isinstance(name, str) else []
    if not close and isinstance(name, str):
        close = get_close_matches(name.upper(), [n.upper() for n in names], n=1, cutoff=0.6)
        close = [n for n in names if n.upper() in close]
    hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(names)}"
    return ConfigError(f"unknown {what} {name!r}{hint}")
