"""`throttle demo`: every policy deciding the same scripted burst, side by side."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from throttle_core.clock import FrozenClock
from throttle_core.factory import RateLimiterFactory
from throttle_core.storage.memory import InMemoryStorage

DEMO_POLICIES: list[tuple[str, str, dict[str, Any]]] = [
    ("token bucket", "burst 5, 1/2s",
     {"policy": "token_bucket", "id": "tb", "limit": 5, "rate": {"interval": 2, "amount": 1}}),
    ("fixed window", "5/10s, clock",
     {"policy": "fixed_window", "id": "fw", "limit": 5, "interval": 10}),
    ("fixed window", "5/10s, 1st hit",
     {"policy": "fixed_window", "id": "fw1", "limit": 5, "interval": 10, "align": "first_hit"}),
    ("sliding window", "5/10s",
     {"policy": "sliding_window", "id": "sw", "limit": 5, "interval": 10}),
]  # fmt: skip
DEMO_TIMES = [0, 0, 0, 0, 0, 0, 0, 1, 3, 4, 7, 10, 10.5, 11, 12, 14, 16, 20]
DEMO_START = 1_700_000_006.0
"""The script's t = 0: six seconds into a clock-aligned 10 s window (the clock's windows open
at t = -6, 4, 14, 24), so clock-aligned and first-hit windows part at t = 4."""
WIDTH = 16


def demo(out: Callable[[str], Any] = print) -> None:
    """Drive each policy with the same scripted requests on a simulated clock and print one
    row per request: the remaining count when accepted, the retry wait when refused."""
    clock = FrozenClock(DEMO_START)
    storage = InMemoryStorage(clock=clock)
    limiters = [
        RateLimiterFactory(config, storage, clock=clock).create("demo")
        for _, _, config in DEMO_POLICIES
    ]
    out("One client's requests at the times on the left, decided by each policy.")
    out("accepted N: N requests left; REFUSED W: retry after W seconds.\n")
    out(f"{'':>6}" + "".join(f"{title:>{WIDTH}}" for title, _, _ in DEMO_POLICIES))
    out(f"{'t (s)':>6}" + "".join(f"{detail:>{WIDTH}}" for _, detail, _ in DEMO_POLICIES))
    for t in DEMO_TIMES:
        clock.set(DEMO_START + t)
        cells = []
        for limiter in limiters:
            result = limiter.consume()
            cell = (
                f"accepted {result.remaining}"
                if result.accepted
                else f"REFUSED {result.retry_after:.1f}s"
            )
            cells.append(f"{cell:>{WIDTH}}")
        out(f"{t:>6g}" + "".join(cells))
    offset = DEMO_START % 10
    out(
        f"\nClock-aligned windows are the clock's 10 s windows, opening at t = {-offset:g}, "
        f"{10 - offset:g}, {20 - offset:g}:\nthat fixed window admits again at "
        f"t = {10 - offset:g}. A first-hit window opens at a first request (t = 0)\nand "
        "lasts 10 s from it, as Symfony's does: that one admits again at t = 10."
    )


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "demo",
        help="show each policy deciding a scripted burst",
        description="Show token bucket, fixed windows (clock-aligned and first-hit) and the "
        "sliding window deciding the same requests on a simulated clock, side by side.",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    demo()
    return 0
