"""Limit strings: "10/second, 1000/hour" as config dicts of any policy that reads them."""

from __future__ import annotations

import re
from typing import Any

from throttle_core.duration import describe_interval, parse_one_limit
from throttle_core.errors import ConfigError
from throttle_core.policies import SPECS

DEFAULT_POLICY = "sliding_window"
"""The policy of a limit string that names none."""
POLICIES_FOR_STRINGS = (
    DEFAULT_POLICY,
    *(name for name, spec in sorted(SPECS.items()) if spec.from_limit and name != DEFAULT_POLICY),
)
"""The policies a limit string can be read with, the default first."""

_SEPARATORS = re.compile(r"[;,]")


def limit_name(amount: int, interval: float) -> str:
    """The name a limit gets when its rule has no id: `"100-per-minute"`."""
    return f"{amount}-per-{describe_interval(interval)}"


def parse_limits(
    text: str, id: str | None = None, policy: str = DEFAULT_POLICY
) -> list[dict[str, Any]]:
    """Config dicts for a limit string such as "10/second;1000/hour" (`,` separates too).

    One limit takes `id` as is; several get `"<id>-<limit name>"`; without `id` each is named
    by its limit ("10-per-second").
    """
    spec = SPECS.get(policy) if isinstance(policy, str) else None
    if spec is None or spec.from_limit is None:
        raise ConfigError(
            f"policy {policy!r} cannot be used with limit strings; use one of "
            f"{', '.join(POLICIES_FOR_STRINGS)}"
        )
    if not isinstance(text, str):
        raise ConfigError(f"limits must be a string like '100/minute', got {text!r:.60}")
    if id is not None and not isinstance(id, str):
        raise ConfigError(f"id must be a string, got {id!r:.60}")
    parts = [part for part in _SEPARATORS.split(text) if part.strip()]
    if not parts:
        raise ConfigError(f"limit string {text!r} holds no limit")
    configs = []
    for part in parts:
        amount, interval = parse_one_limit(part)
        name = limit_name(amount, interval)
        limit_id = name if not id else id if len(parts) == 1 else f"{id}-{name}"
        config = {"policy": policy, "id": limit_id, **spec.from_limit(amount, interval)}
        configs.append(config)
    return configs
