"""The `throttle` console script as users run it: the real entry point, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

THROTTLE = Path(sys.executable).with_name("throttle")
"""The console script installed next to this interpreter (`.venv/bin/throttle`)."""
TIMEOUT = 60


def run_throttle(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `throttle ARGS…` and return what it did (bounded in time)."""
    return subprocess.run(
        [str(THROTTLE), *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        check=False,
    )


def run_json(*args: str) -> Any:
    """`throttle ARGS… --json`, which must succeed, decoded."""
    done = run_throttle(*args, "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return json.loads(done.stdout)


@pytest.fixture(scope="session", autouse=True)
def console_script() -> None:
    assert THROTTLE.exists(), f"{THROTTLE} is missing: pip install -e '.[dev]'"
