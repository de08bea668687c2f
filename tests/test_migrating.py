"""docs/migrating.md, @zeitar/throttle's storage and locking guide in Python: its blocks build
on each other as the guide's do, so they run in order in one namespace, on private Redis
servers (the default port and Redlock's 6380-6382) and a fresh PostgreSQL schema; and the
page, read as one module, passes `mypy --strict`, so storages and locks written the way the
guide writes them, sync and async, type-check against our interfaces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.redis_support import reader_redis
from tests.test_docs import examples, reader_postgres, run_example

DOC = "docs/migrating.md"
BLOCKS = [(param.values[1], param.values[2]) for param in examples(DOC)]


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
def test_the_examples_run_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    assert len(BLOCKS) >= 10
    namespace: dict[str, object] = {"__name__": "__doc_example__"}
    with (
        reader_redis((6379, 6380, 6381, 6382), tmp_path, monkeypatch),
        reader_postgres(postgres_url, monkeypatch),
    ):
        for line, code in BLOCKS:
            run_example(DOC, line, code, namespace)
    assert {"MyRedisStorage", "MyAsyncRedisStorage", "SetNxLock", "AsyncSetNxLock"} <= set(
        namespace
    )


def page_as_module() -> str:
    """The page's blocks at their own line numbers, everything else blank lines, so mypy's
    errors point at the page."""
    lines = [""] * (max(line + code.count("\n") for line, code in BLOCKS) + 1)
    for line, code in BLOCKS:
        for offset, text in enumerate(code.splitlines(), 1):
            lines[line + offset - 1] = text
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_the_page_passes_mypy_strict(tmp_path: Path) -> None:
    module = tmp_path / "migrating.py"
    module.write_text(page_as_module())
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir",
         str(tmp_path / "cache"), str(module)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert checked.stdout.strip() == "Success: no issues found in 1 source file", (
        checked.stdout.replace(str(module), DOC) + checked.stderr
    )
