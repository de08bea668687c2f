"""`throttle demo` as users run it: the table docs/cli.md shows, and the two fixed windows
parting where the clock's window opens."""

from __future__ import annotations

import re

import pytest

from tests.cli.conftest import run_throttle
from tests.test_docs import ROOT

TEXT = re.compile(r"^```text\n(.*?)^```", re.MULTILINE | re.DOTALL)


def documented_demo() -> list[str]:
    """The rows of docs/cli.md's demo excerpt (the first text block after its heading),
    without the `...` that stands for the rows left out."""
    section = (ROOT / "docs" / "cli.md").read_text().split("\n## `throttle demo`\n", 1)[1]
    block = TEXT.search(section)
    assert block is not None
    return [row for row in block.group(1).splitlines() if row.strip() != "..."]


@pytest.fixture(scope="module")
def demo_output() -> str:
    """What `throttle demo` prints, run once for the module's tests."""
    done = run_throttle("demo")
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_row_of_the_documented_demo_is_in_its_output(demo_output: str) -> None:
    printed = demo_output.splitlines()
    rows = documented_demo()
    assert len(rows) >= 5
    for row in rows:
        assert row in printed


def demo_table(output: str) -> dict[str, list[dict[str, str]]]:
    """`throttle demo`'s table in its `output`: for each t printed, its rows as
    {column detail: cell}."""
    lines = output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("t (s)"))
    columns = split_row(lines[header])
    table: dict[str, list[dict[str, str]]] = {}
    for line in lines[header + 1 :]:
        if not line.strip():
            break
        t, *cells = split_row(line)
        table.setdefault(t, []).append(dict(zip(columns[1:], cells, strict=True)))
    return table


def split_row(line: str) -> list[str]:
    """A row's cells: the time in 6 characters, then one 16-character column per policy."""
    return [line[:6].strip()] + [line[i : i + 16].strip() for i in range(6, len(line), 16)]


def test_first_hit_and_clock_aligned_fixed_windows_part_at_t_4(demo_output: str) -> None:
    table = demo_table(demo_output)
    [before] = table["3"]
    assert before["5/10s, clock"].startswith("REFUSED")
    assert before["5/10s, 1st hit"].startswith("REFUSED")
    [row] = table["4"]
    assert row["5/10s, clock"] == "accepted 4"
    assert row["5/10s, 1st hit"] == "REFUSED 6.0s"
    [first_hit_opens] = table["10"]
    assert first_hit_opens["5/10s, 1st hit"] == "accepted 4"
