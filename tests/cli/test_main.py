"""What every command shares: --version, clean --help, exit statuses, a closed pipe, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.conftest import THROTTLE, TIMEOUT, run_throttle

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ["demo", "simulate", "inspect", "reset", "cleanup", "pg-init"]


def test_version_is_the_distributions() -> None:
    version = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M)
    assert version is not None
    done = run_throttle("--version")
    assert (done.returncode, done.stdout) == (0, f"throttle {version.group(1)}\n")


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_is_plain_text(command: str | None) -> None:
    done = run_throttle(*([command] if command else []), "--help")
    assert done.returncode == 0
    assert done.stdout.startswith(f"usage: throttle{' ' + command if command else ''}")
    assert "`" not in done.stdout
    assert done.stderr == ""


def test_the_top_help_lists_every_command_and_the_exit_statuses() -> None:
    text = run_throttle("--help").stdout
    for command in COMMANDS:
        assert f"\n    {command} " in text
    assert "0 done, 1 failed" in text
    assert "2 bad command line" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["demo", "--fast"], "unrecognized arguments: --fast"),
        (["simulate", "10/second"], "the following arguments are required: --traffic"),
        (["simulate", "ten per second", "--traffic", "steady:1/s"], "not a limit string"),
        (["simulate", "{oops", "--traffic", "steady:1/s"], "is not valid JSON"),
        (["inspect", "memory://"], "the following arguments are required: ID"),
        (["inspect", "memory://", "", "k"], "argument ID: an id must be a non-empty string"),
        (["reset", "redis://127.0.0.1:1/0", ""], "argument ID: an id must be a non-empty string"),
        (["inspect", "mysql://db/app", "api", "k"], "unsupported storage URL 'mysql://db/app'"),
        (["inspect", "redis://h:port/0", "api", "k"], "bad port 'port'"),
        (["inspect", "memory://", "api", "k", "--limit", "10/fortnight"], "--limit"),
        (["cleanup", "memory://"], "drops expired states by itself"),
        (["pg-init", "mysql://db/app"], "not a PostgreSQL URL: 'mysql://db/app'"),
        (["pg-init", "postgresql://u@h:port/db"], "bad port 'port'"),
        (["pg-init", "postgresql://u@h/db", "--table", "no good"], "table must be a name"),
        (["pg-init", "postgresql://u@h/db?table=1st"], "got '1st'"),
    ],
)
def test_a_bad_command_line_exits_2_with_usage(args: list[str], message: str) -> None:
    done = run_throttle(*args)
    assert done.returncode == 2, done
    assert done.stderr.startswith("usage: throttle")
    assert message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["inspect", "redis://127.0.0.1:1/0", "api", "k", "--limit", "5/minute"],
         ("127.0.0.1:1",)),
        (["pg-init", "postgresql://postgres@127.0.0.1:1/db"],
         ("could not set up 'throttle_state'", '"127.0.0.1", port 1')),
    ],
)  # fmt: skip
def test_a_failure_exits_1_with_a_message_naming_it(
    args: list[str], named: tuple[str, ...]
) -> None:
    done = run_throttle(*args)
    assert done.returncode == 1
    assert done.stderr.startswith(f"throttle {args[0]}: error: ")
    for part in named:
        assert part in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_extra_is_named(tmp_path: Path) -> None:
    for name in ("redis", "psycopg"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(
            f"raise ModuleNotFoundError({f'No module named {name!r}'!r}, name={name!r})\n"
        )
    env = {"PYTHONPATH": str(tmp_path)}
    done = run_throttle("reset", "redis://127.0.0.1:6379/0", "api", "k", env=env)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "throttle reset: error: redis is not installed; install it with: "
        "pip install -e '.[redis]' (in a checkout of throttle-suite)\n"
    )
    done = run_throttle("cleanup", "postgresql://postgres@127.0.0.1/db", env=env)
    assert done.returncode == 1
    assert done.stderr == (
        "throttle cleanup: error: psycopg is not installed; install it with: "
        "pip install -e '.[postgres]' (in a checkout of throttle-suite)\n"
    )
    assert run_throttle("demo", env=env).returncode == 0


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["demo"], 141),
        (["simulate", "5/s", "--traffic", "steady:50/s", "--json"], 141),
        (["--help"], 0),  # argparse itself ignores a failed write of the help
    ],
)
def test_a_closed_pipe_ends_quietly(args: list[str], status: int) -> None:
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [str(THROTTLE), *args], stdout=write, stderr=subprocess.PIPE, text=True,
            timeout=TIMEOUT, check=False,
        )  # fmt: skip
    finally:
        os.close(write)
    assert done.stderr == ""
    assert done.returncode == status


def test_head_reads_the_first_lines_of_the_demo() -> None:
    done = subprocess.run(
        f"set -o pipefail; {THROTTLE} demo | head -1", shell=True, capture_output=True,
        text=True, timeout=TIMEOUT, check=False, executable="/bin/bash",
    )  # fmt: skip
    assert done.stdout.startswith("One client's requests")
    assert "Traceback" not in done.stderr
    assert done.returncode in (0, 141)


def _interruptible() -> None:
    """Give the command the default SIGINT disposition: a suite started in the background by a
    shell inherits SIGINT ignored, and Python then leaves Ctrl-C ignored too."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_ends_quietly_with_130(tmp_path: Path) -> None:
    fifo = tmp_path / "traffic.csv"
    os.mkfifo(fifo)
    process = subprocess.Popen(
        [str(THROTTLE), "simulate", "5/s", "--traffic", f"csv:{fifo}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_interruptible,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + TIMEOUT
        writer = None
        while writer is None and time.monotonic() < deadline:
            try:
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.05)
        assert writer is not None, "the command never opened its traffic file"
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=TIMEOUT)
        os.close(writer)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 130
    assert "Traceback" not in err
    assert err.strip() == "throttle simulate: interrupted"
