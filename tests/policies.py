"""Helpers the exactness tests share: one config of every policy, and a burst of threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def every_policy(limit: int) -> dict[str, dict[str, Any]]:
    """`limit` per hour under each policy (both fixed-window alignments), by name."""
    hour = "1 hour"
    return {
        "token_bucket": {"policy": "token_bucket", "id": "tb", "limit": limit,
                         "rate": {"interval": hour, "amount": limit}},
        "fixed_window": {"policy": "fixed_window", "id": "fw", "limit": limit, "interval": hour},
        "first_hit": {"policy": "fixed_window", "id": "fh", "limit": limit, "interval": hour,
                      "align": "first_hit"},
        "sliding_window": {"policy": "sliding_window", "id": "sw", "limit": limit,
                           "interval": hour},
        "gcra": {"policy": "gcra", "id": "gc", "limit": limit,
                 "rate": {"interval": hour, "amount": limit}},
    }  # fmt: skip


def run_threads(count: int, target: Callable[[int], None]) -> None:
    """Run `target(slot)` in `count` threads at once and wait for all of them."""
    threads = [threading.Thread(target=target, args=(slot,)) for slot in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
