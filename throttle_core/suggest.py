"""Errors for names nobody knows, with the closest known name ("LIMTS": did you mean LIMITS?)."""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches

from throttle_core.errors import ConfigError


def closest(name: object, known: Iterable[str]) -> str | None:
    """The known name `name` was most likely meant to be (letter case aside), if any is close."""
    if not isinstance(name, str):
        return None
    names = list(known)
    close = get_close_matches(name, names, n=1, cutoff=0.6)
    if not close:
        upper = get_close_matches(name.upper(), [n.upper() for n in names], n=1, cutoff=0.6)
        close = [n for n in names if n.upper() in upper]
    return close[0] if close else None


def unknown_name(what: str, name: object, known: Iterable[str]) -> ConfigError:
    """The error for `name`, which is not one of `known`, naming the closest known one."""
    names = list(known)
    match = closest(name, names)
    hint = f"; did you mean {match!r}?" if match else f"; known: {', '.join(names)}"
    return ConfigError(f"unknown {what} {name!r}{hint}")


def unknown_fields(what: str, unknown: Iterable[object], known: Iterable[str]) -> ConfigError:
    """The error for fields of `what` that are none of `known`, naming what each may have
    been meant to be."""
    names = sorted(known)
    fields = sorted(unknown, key=str)
    hints = [f"{field!r}: did you mean {m!r}?" for field in fields if (m := closest(field, names))]
    shown = f"; {'; '.join(hints)}" if hints else f"; known: {', '.join(names)}"
    return ConfigError(f"{what} has unknown fields {fields}{shown}")
