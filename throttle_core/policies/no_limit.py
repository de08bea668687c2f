"""No limit: every request is accepted and no storage is touched."""

from __future__ import annotations

import sys
from typing import ClassVar

from throttle_core.policies.spec import PolicySpec

UNLIMITED = sys.maxsize


class NoLimit:
    """Marker policy for `{"policy": "no_limit"}`; the factory turns it into a `NoLimiter`."""

    name: ClassVar[str] = "no_limit"
    limit = UNLIMITED

    def window_seconds(self) -> float:
        return 1.0


SPEC = PolicySpec(
    name=NoLimit.name, options={}, build=lambda config: None, describe=lambda config: "no_limit"
)
