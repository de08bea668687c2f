"""Redlock: a lock granted by a majority of independent Redis servers (the Redlock algorithm)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from throttle_core.errors import ConfigError
from throttle_core.locks.base import DEFAULT_TIMEOUT
from throttle_core.locks.redis import ServerLock

DEFAULT_DRIFT_FACTOR = 0.01


class Redlock(ServerLock):
    """The lock for a key is taken on every server (concurrently with asyncio clients) and is
    granted when a majority said yes fast enough: its validity, ttl less the time the attempt
    took less `drift_factor`·ttl + 2 ms for clock drift, is still positive. Otherwise it is
    freed on every server that may hold it and retried with jittered backoff until `timeout`.

    A server that is down or errs counts as a "no", so any minority of servers may fail.
    Release frees the key on all servers. Give each client a short `socket_timeout`, so a
    server that hangs costs little of the ttl.
    """

    tolerates_server_errors: ClassVar[bool] = True

    def __init__(
        self,
        clients: Sequence[Any],
        prefix: str = "lock:",
        timeout: float = DEFAULT_TIMEOUT,
        *,
        drift_factor: float = DEFAULT_DRIFT_FACTOR,
        raise_on_lost: bool = False,
    ) -> None:
        if isinstance(clients, str | bytes) or not isinstance(clients, Sequence) or not clients:
            raise ConfigError(
                f"Redlock needs a non-empty list of Redis clients, one per server, got {clients!r}"
            )
        super().__init__(clients, prefix, timeout, drift_factor, raise_on_lost)
