"""State ids: `<config id>:<key>` with each part escaped so that no two limiters ever collide."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

MAX_PART_BYTES = 200
_UNSAFE = re.compile(r"[^\x21-\x24\x26-\x39\x3b-\x7e]")


def escape_part(part: str) -> str:
    """Percent-encode `%`, `:` and bytes outside 0x21–0x7E; hash parts over 200 UTF-8 bytes."""
    if len(part) <= MAX_PART_BYTES and _UNSAFE.search(part) is None:
        return part
    raw = part.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_PART_BYTES:
        return "sha256-" + hashlib.sha256(raw).hexdigest()
    return "".join(
        chr(b) if 0x21 <= b <= 0x7E and b not in (0x25, 0x3A) else f"%{b:02X}" for b in raw
    )


def state_ids(config_id: str) -> Callable[[str | None], str]:
    """`state_id` for one config id, escaped once: what a factory calls for every key."""
    prefix = escape_part(config_id)

    def state_id_of(key: str | None) -> str:
        return f"{prefix}:{escape_part(key)}" if key else prefix

    return state_id_of


def state_id(config_id: str, key: str | None) -> str:
    """The id a limiter's state is stored under: the escaped config id, then ":" and the key."""
    return state_ids(config_id)(key)
