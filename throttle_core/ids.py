"""State ids: `<config id>:<key>` with each part escaped so that no two limiters ever collide."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from throttle_core.messages import short

MAX_PART_BYTES = 200
_UNSAFE = re.compile(r"[^\x21-\x24\x26-\x39\x3b-\x7e]")


def escape_part(part: str) -> str:
    """Percent-encode `%`, `:` and bytes outside 0x21–0x7E; a part over 200 UTF-8 bytes is
    `%sha256-<hex>` instead, a form escaping never writes (it writes `%` only before hex)."""
    if len(part) <= MAX_PART_BYTES and _UNSAFE.search(part) is None:
        return part
    raw = part.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_PART_BYTES:
        return "%sha256-" + hashlib.sha256(raw).hexdigest()
    return "".join(
        chr(b) if 0x21 <= b <= 0x7E and b not in (0x25, 0x3A) else f"%{b:02X}" for b in raw
    )


def key_text(key: object) -> str | None:
    """A limiter key as text: a str as it is, an int as its decimal text, None for no key;
    anything else (bytes, floats, objects) is a `TypeError`, since its text would be a guess."""
    if isinstance(key, str):
        return str.__str__(key)
    if key is None:
        return None
    if isinstance(key, int) and not isinstance(key, bool):
        return int.__repr__(key)
    raise TypeError(
        "a limiter key must be a str (an int is taken as its decimal text) or None, got "
        f"{type(key).__name__} {short(key)}"
    )


def state_ids(config_id: str) -> Callable[[str | int | None], str]:
    """`state_id` for one config id, escaped once: what a factory calls for every key."""
    prefix = escape_part(config_id)
    head = prefix + ":"
    unsafe = _UNSAFE.search

    def state_id_of(key: str | int | None) -> str:
        if type(key) is not str:
            key = key_text(key)
        if not key:
            return prefix
        if len(key) <= MAX_PART_BYTES and unsafe(key) is None:
            return head + key
        return head + escape_part(key)

    return state_id_of


def state_id(config_id: str, key: str | int | None) -> str:
    """The id a limiter's state is stored under: the escaped config id, then ":" and the key."""
    return state_ids(config_id)(key)
