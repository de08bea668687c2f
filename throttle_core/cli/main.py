"""The `throttle` command: its parser, and how every command ends (exit status, closed pipes,
Ctrl-C)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from throttle_core import __version__
from throttle_core.cli import counters, pg_init, simulate
from throttle_core.cli.common import missing_extra, runtime_errors
from throttle_core.cli.demo import add_parser as add_demo_parser

DESCRIPTION = """\
Look at rate limits without reading code: watch each policy decide a burst, simulate a
limit against your traffic (and plot it), inspect or reset one client's counter in a
running deployment's storage, and set up or clean PostgreSQL storage."""
EPILOG = """\
exit status: 0 done, 1 failed (the message says why), 2 bad command line.
Run "throttle COMMAND --help" for each command's options and examples."""
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as a shell reports a command stopped by Ctrl-C."""
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE, as a shell reports any command whose reader went away (`| head`)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="throttle",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"throttle {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_demo_parser(commands)
    simulate.add_parser(commands)
    counters.add_parsers(commands)
    pg_init.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status."""
    command = "throttle"
    try:
        args = build_parser().parse_args(argv)
        command = f"throttle {args.command}"
        status: int = args.run(args)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print(f"\n{command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ModuleNotFoundError as error:
        message = missing_extra(error)
        if message is None:
            raise
        print(f"{command}: error: {message}", file=sys.stderr)
        return EXIT_ERROR
    except runtime_errors() as error:
        print(f"{command}: error: {error}", file=sys.stderr)
        return EXIT_ERROR


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush finds no closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
