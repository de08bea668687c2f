"""`throttle inspect`, `throttle reset` and `throttle cleanup`: one counter of a running
deployment, and the expired rows of a table storage."""

from __future__ import annotations

import argparse
import json
from typing import Any

from throttle_core.cli.common import closing_storage, open_storage, parse_limit
from throttle_core.counters import (
    cleanup_expired,
    counter_config,
    inspect_counter,
    reset_counter,
)
from throttle_core.errors import ConfigError
from throttle_core.ids import state_id
from throttle_core.limits import POLICIES_FOR_STRINGS, parse_limits

STORAGE_HELP = (
    "the storage the deployment uses: memory://, redis://host:6379/0, rediss://, "
    "redis+cluster://, redis+sentinel://, postgresql://user@host/db[?table=NAME]"
)
ID_HELP = "the limit's id (a rule's id, or the name derived from its limit)"
KEY_HELP = (
    "the key as the rule computes it: an address (203.0.113.7, 2001:db8::/64), a user id, "
    "a header value; leave it out for a limiter without a key"
)
INSPECT_EPILOG = """\
A stored window does not carry its limit: give it with --limit to see what remains now,
when the next request is admitted and when the counter is full again. A token bucket's
state carries its limit and rate, so it is reported in full without one.

examples:
  throttle inspect redis://127.0.0.1:6379/0 login 203.0.113.7 --limit 5/minute
  throttle inspect postgresql://app@db/app api user-42 \\
      --limit '{"policy": "fixed_window", "limit": 100, "interval": "1 hour"}'
  throttle inspect redis://127.0.0.1:6379/0 login 203.0.113.7 --json"""
RESET_EPILOG = """\
examples:
  throttle reset redis://127.0.0.1:6379/0 login 203.0.113.7
  throttle reset postgresql://app@db/app nightly-export"""
CLEANUP_EPILOG = """\
Redis and the in-memory storage drop expired states themselves; a PostgreSQL table keeps
them until cleaned (run this from cron, or call PostgresStorage.cleanup()).

example:
  throttle cleanup postgresql://app@db/app?table=throttle_state"""


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    inspect = commands.add_parser(
        "inspect",
        help="show one counter: policy, remaining now, retry and reset, expiry",
        description="Show the state of one counter in a storage: its policy, what is stored, "
        "what remains now, when the next request is admitted, when it is full again and "
        "when the storage drops it. Nothing is changed.",
        epilog=INSPECT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _counter_arguments(inspect)
    inspect.add_argument(
        "--limit",
        type=parse_limit,
        metavar="LIMIT",
        help='the limit the counter runs under: a limit string ("10/minute") or a JSON config',
    )
    inspect.add_argument(
        "--policy",
        choices=POLICIES_FOR_STRINGS,
        help="the policy of a limit string (default sliding_window, as for limit strings "
        "everywhere)",
    )
    inspect.add_argument("--json", action="store_true", help="print the report as JSON")
    inspect.set_defaults(run=run_inspect, parser=inspect)

    reset = commands.add_parser(
        "reset",
        help="forget one counter, so it is full again",
        description="Delete one counter's state from a storage: the client starts afresh.",
        epilog=RESET_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _counter_arguments(reset)
    reset.add_argument("--json", action="store_true", help="print the outcome as JSON")
    reset.set_defaults(run=run_reset, parser=reset)

    cleanup = commands.add_parser(
        "cleanup",
        help="delete the expired rows of a PostgreSQL storage",
        description="Delete the expired states of a storage that keeps them in a table, and "
        "say how many were deleted.",
        epilog=CLEANUP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cleanup.add_argument("storage", metavar="STORAGE_URL", help="postgresql://user@host/db")
    cleanup.set_defaults(run=run_cleanup, parser=cleanup)


def _counter_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("storage", metavar="STORAGE_URL", help=STORAGE_HELP)
    parser.add_argument("id", metavar="ID", type=counter_id, help=ID_HELP)
    parser.add_argument("key", metavar="KEY", nargs="?", help=KEY_HELP)


def counter_id(text: str) -> str:
    """An ID argument as given; an empty one names no limit, so it is a usage error."""
    if not text:
        raise argparse.ArgumentTypeError("an id must be a non-empty string, got ''")
    return text


def counter_limit(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Any:
    """The --limit of `inspect` as a config for its ID (a limit string read with --policy)."""
    limit = args.limit
    if isinstance(limit, str):
        try:
            configs = parse_limits(limit, id=args.id, policy=args.policy or "sliding_window")
        except ConfigError as error:
            parser.error(f"argument --limit: {error}")
        if len(configs) != 1:
            parser.error(f"argument --limit: {limit!r} holds {len(configs)} limits; give one")
        return configs[0]
    if limit is not None and args.policy is not None:
        parser.error("--policy applies to a limit string; a JSON config names its own policy")
    return limit


def run_inspect(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    config = counter_limit(parser, args)
    try:
        counter_config(args.id, config)
    except ConfigError as error:
        parser.error(f"argument --limit: {error}")
    storage = open_storage(parser, args.storage)
    with closing_storage(storage):
        report = inspect_counter(storage, args.id, args.key, config)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    print("\n".join(report.lines()))
    if report.rate_limit is None and report.state is not None:
        print("\nGive the limit to see what remains: --limit 10/minute (or the config as JSON).")
    return 0


def run_reset(args: argparse.Namespace) -> int:
    storage = open_storage(args.parser, args.storage)
    with closing_storage(storage):
        found = reset_counter(storage, args.id, args.key)
    sid = state_id(args.id, args.key)
    if args.json:
        print(json.dumps({"state_id": sid, "deleted": found}))
    elif found:
        print(f"reset {sid}: its state is deleted, the counter is full again")
    else:
        print(f"nothing stored under {sid}: the counter was already full")
    return 0


def run_cleanup(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    storage = open_storage(parser, args.storage)
    if not callable(getattr(storage, "cleanup", None)):
        parser.error(
            f"{args.storage!r}: this storage drops expired states by itself; only a "
            "postgresql:// storage keeps them until cleaned"
        )
    with closing_storage(storage):
        deleted = cleanup_expired(storage)
    table = getattr(storage, "table", "the table")
    print(f"deleted {deleted} expired row{'s' if deleted != 1 else ''} from {table}")
    return 0
