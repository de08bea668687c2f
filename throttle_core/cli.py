"""The `throttle` console script: `throttle demo`, and maintenance commands of the storages."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from throttle_core.clock import FrozenClock
from throttle_core.errors import ThrottleError
from throttle_core.factory import RateLimiterFactory
from throttle_core.storage.memory import InMemoryStorage

DEMO_POLICIES: list[tuple[str, dict[str, Any]]] = [
    ("token bucket: burst 5, 1 token / 2 s",
     {"policy": "token_bucket", "id": "tb", "limit": 5, "rate": {"interval": 2, "amount": 1}}),
    ("fixed window: 5 per 10 s, clock-aligned",
     {"policy": "fixed_window", "id": "fw", "limit": 5, "interval": 10}),
    ("fixed window: 5 per 10 s, from the first hit",
     {"policy": "fixed_window", "id": "fw1", "limit": 5, "interval": 10, "align": "first_hit"}),
    ("sliding window: 5 per 10 s",
     {"policy": "sliding_window", "id": "sw", "limit": 5, "interval": 10}),
]  # fmt: skip
DEMO_TIMES = [0, 0, 0, 0, 0, 0, 0, 1, 3, 4, 7, 10, 10.5, 11, 12, 14, 16, 20]


def demo(out: Callable[[str], Any] = print) -> None:
    """Drive each policy with the same scripted burst on a simulated clock and print a table."""
    start = 1_700_000_000.0
    for title, config in DEMO_POLICIES:
        clock = FrozenClock(start)
        limiter = RateLimiterFactory(config, InMemoryStorage(clock=clock), clock=clock).create(
            "demo"
        )
        out(f"\n{title}")
        out(f"  {'t (s)':>6}  {'decision':<9} {'remaining':>9}  {'retry after':>11}")
        for t in DEMO_TIMES:
            clock.set(start + t)
            result = limiter.consume()
            verdict = "accepted" if result.accepted else "REFUSED"
            retry = f"{result.retry_after:.2f}s" if not result.accepted else "-"
            out(f"  {t:>6g}  {verdict:<9} {result.remaining:>9}  {retry:>11}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="throttle", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="show each policy deciding a scripted burst")
    pg_init = commands.add_parser("pg-init", help="create PostgresStorage's table (idempotent)")
    pg_init.add_argument("url", help="postgresql://user@host/db (a ?table= parameter works too)")
    pg_init.add_argument("--table", help="table name, optionally schema.name")
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo()
    if args.command == "pg-init":
        try:
            from throttle_core.storage.postgres import pg_init as run_pg_init

            print(run_pg_init(args.url, args.table))
        except (ThrottleError, ModuleNotFoundError) as error:
            print(f"throttle pg-init: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
