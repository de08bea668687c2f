"""Pure, sans-IO policies: functions of (state, now, tokens) -> (new state, decision)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from throttle_core.errors import InvalidStateError
from throttle_core.policies.base import (
    MAX_STORED_COUNT,
    MAX_TTL_SECONDS,
    STATE_VERSION,
    Policy,
    StateBase,
    ttl_seconds,
)
from throttle_core.policies.fixed_window import ALIGNMENTS, FixedWindow, FixedWindowState
from throttle_core.policies.no_limit import UNLIMITED, NoLimit
from throttle_core.policies.sliding_window import SlidingWindow, SlidingWindowState
from throttle_core.policies.token_bucket import TokenBucket, TokenBucketState

LimiterPolicy = TokenBucket | FixedWindow | SlidingWindow
State = TokenBucketState | FixedWindowState | SlidingWindowState

STATE_TYPES: dict[str, type[StateBase]] = {
    cls.type: cls for cls in (TokenBucketState, FixedWindowState, SlidingWindowState)
}


def state_from_dict(data: Any) -> State:
    """Rebuild any built-in state from its `to_dict()` form; `InvalidStateError` if malformed."""
    kind = data.get("type") if isinstance(data, Mapping) else None
    cls = STATE_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InvalidStateError(f"unknown limiter state type {kind!r}")
    state: State = cls.from_dict(data)
    return state


__all__ = [
    "ALIGNMENTS",
    "MAX_STORED_COUNT",
    "MAX_TTL_SECONDS",
    "STATE_TYPES",
    "STATE_VERSION",
    "UNLIMITED",
    "FixedWindow",
    "FixedWindowState",
    "LimiterPolicy",
    "NoLimit",
    "Policy",
    "SlidingWindow",
    "SlidingWindowState",
    "State",
    "StateBase",
    "TokenBucket",
    "TokenBucketState",
    "state_from_dict",
    "ttl_seconds",
]
