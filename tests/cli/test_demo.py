"""`throttle demo` as users run it: the table docs/cli.md shows, and the two fixed windows
parting where the clock's window opens."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli.conftest import run_throttle

ROOT = Path(__file__).resolve().parents[2]
TEXT = re.compile(r"^```text\n(.*?)^```", re.MULTILINE | re.DOTALL)


def documented_demo() -> list[str]:
    """The rows of docs/cli.md's demo excerpt (the first text block after its heading),
    without the `...` that stands for the rows left out."""
    section = (ROOT / "docs" / "cli.md").read_text().split("\n## `throttle demo`\n", 1)[1]
    block = TEXT.search(section)
    assert block is not None
    return [row for row in block.group(1).splitlines() if row.strip() != "..."]


def test_every_row_of_the_documented_demo_is_in_its_output() -> None:
    done = run_throttle("demo")
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    rows = documented_demo()
    assert len(rows) >= 5
    for row in rows:
        assert row in printed
