"""`throttle pg-init URL [--table NAME]`: create PostgresStorage's table, index and function."""

from __future__ import annotations

import argparse

from throttle_core.errors import ConfigError

DESCRIPTION = """\
Create the table, its expires_at index and the decision function that PostgresStorage
needs. Safe to run again (it only adds what is missing and updates the function)."""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pg_init = commands.add_parser(
        "pg-init",
        help="create PostgresStorage's table (idempotent)",
        description=DESCRIPTION,
        epilog="example:\n  throttle pg-init postgresql://postgres@127.0.0.1/app --table limits",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pg_init.add_argument("url", help="postgresql://user@host/db (a ?table= parameter works too)")
    pg_init.add_argument("--table", help="table name, optionally schema.name")
    pg_init.set_defaults(run=run, parser=pg_init)


def run(args: argparse.Namespace) -> int:
    from throttle_core.storage.pg_init import pg_init, pg_target

    try:
        pg_target(args.url, args.table)
    except ConfigError as error:
        args.parser.error(str(error))
    print(pg_init(args.url, args.table))
    return 0
