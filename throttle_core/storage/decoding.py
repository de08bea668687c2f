"""Stored values made into states a decision can use, or dropped: one rule for every storage.

A value that cannot be decoded, holds another policy's state, or holds numbers no decision
could have written (see `StateBase.problem`) counts as absent: it is logged once, as one
warning, and the next decision overwrites it. The Lua scripts and the SQL function apply the
same rules where they decide, and report what they dropped for `dropped` to log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from throttle_core.errors import InvalidStateError
from throttle_core.policies import LimiterPolicy, State, StateBase, state_from_dict

log = logging.getLogger("throttle_core.storage")


def dropped(where: str, reason: str) -> None:
    """Log that the state `where` (e.g. "of 'api:k' in throttle_state") counts as absent."""
    log.warning("treating the undecodable state %s as absent: %s", where, reason)


def foreign(where: str, kind: str, wanted: str) -> None:
    """Log that the state `where` is a `kind` state, not the `wanted` one: it counts as absent."""
    log.warning("ignoring a %s state %s for a %s limiter", kind, where, wanted)


def decode_state(
    raw: str | bytes | None,
    where: str,
    policy: LimiterPolicy | None = None,
    now: float | None = None,
) -> State | None:
    """The state in stored JSON `raw`, or None (absent, or dropped as `usable_state` drops)."""
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as error:
        dropped(where, f"not JSON ({type(error).__name__}: {str(error)[:100]})")
        return None
    if not isinstance(data, Mapping):
        dropped(where, f"a JSON {type(data).__name__}, not a state's object")
        return None
    return usable_state(data, where, policy, now)


def usable_state(
    value: Mapping[str, Any] | StateBase | None,
    where: str,
    policy: LimiterPolicy | None = None,
    now: float | None = None,
) -> State | None:
    """`value` (a built-in state, or its `to_dict()` mapping) as a state `policy` can decide
    on at `now`; None, logged, when it is malformed, another policy's, or out of range."""
    if value is None:
        return None
    if isinstance(value, StateBase):
        state: Any = value
    else:
        try:
            state = state_from_dict(value)
        except (InvalidStateError, RecursionError) as error:
            dropped(where, str(error)[:300])
            return None
    if policy is not None and type(state) is not policy.state_type:
        foreign(where, state.type, policy.name)
        return None
    try:
        problem = state.problem(now)
    except TypeError as error:
        problem = f"a field has the wrong type ({error})"
    if problem is not None:
        dropped(where, problem)
        return None
    return state  # type: ignore[no-any-return]
