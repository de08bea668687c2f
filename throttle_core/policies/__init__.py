"""Pure, sans-IO policies: functions of (state, now, tokens) -> (new state, decision).

Each module here that defines a `SPEC` is a policy (see `throttle_core.policies.spec`):
`SPECS` and `STATE_TYPES` are gathered from them, so adding a policy edits no list.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Mapping
from importlib import import_module
from typing import Any

from throttle_core.errors import InvalidStateError
from throttle_core.policies.base import (
    MAX_STORED_COUNT,
    MAX_TTL_SECONDS,
    STATE_VERSION,
    Policy,
    ServerPolicy,
    StateBase,
    ttl_seconds,
)
from throttle_core.policies.fixed_window import ALIGNMENTS, FixedWindow, FixedWindowState
from throttle_core.policies.no_limit import UNLIMITED, NoLimit
from throttle_core.policies.sliding_window import SlidingWindow, SlidingWindowState
from throttle_core.policies.spec import Option, PolicySpec, ServerSide
from throttle_core.policies.token_bucket import TokenBucket, TokenBucketState

LimiterPolicy = Policy[Any]
"""Any policy a limiter can apply (the built-ins, or one of your own)."""
State = StateBase
"""Any built-in policy's state."""


def _gather() -> dict[str, PolicySpec]:
    specs: dict[str, PolicySpec] = {}
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        spec = getattr(import_module(f"{__name__}.{module.name}"), "SPEC", None)
        if isinstance(spec, PolicySpec):
            specs[spec.name] = spec
    return specs


SPECS: dict[str, PolicySpec] = _gather()
"""Every policy by its config name."""
STATE_TYPES: dict[str, type[StateBase]] = {
    spec.state_type.type: spec.state_type for spec in SPECS.values() if spec.state_type
}
"""Every policy's state type by its "type"."""


def state_from_dict(data: Any) -> StateBase:
    """Rebuild any policy's state from its `to_dict()` form; `InvalidStateError` if malformed."""
    kind = data.get("type") if isinstance(data, Mapping) else None
    cls = STATE_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InvalidStateError(f"unknown limiter state type {kind!r}")
    state: StateBase = cls.from_dict(data)
    return state


__all__ = [
    "ALIGNMENTS",
    "MAX_STORED_COUNT",
    "MAX_TTL_SECONDS",
    "SPECS",
    "STATE_TYPES",
    "STATE_VERSION",
    "UNLIMITED",
    "FixedWindow",
    "FixedWindowState",
    "LimiterPolicy",
    "NoLimit",
    "Option",
    "Policy",
    "PolicySpec",
    "ServerPolicy",
    "ServerSide",
    "SlidingWindow",
    "SlidingWindowState",
    "State",
    "StateBase",
    "TokenBucket",
    "TokenBucketState",
    "state_from_dict",
    "ttl_seconds",
]
