"""Users' code type-checked against ours: `mypy --strict` over one module of user code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import NamedTuple


class Checked(NamedTuple):
    """What mypy said: its whole output, the `reveal_type` lines and the error lines."""

    out: str
    revealed: list[str]
    errors: list[str]


def strict_mypy(tmp_path: Path, code: str, name: str = "user_module.py") -> Checked:
    """`mypy --strict` over `code`, written as the module `name` in `tmp_path`."""
    module = tmp_path / name
    module.write_text(code)
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir",
         str(tmp_path / "cache"), str(module)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    lines = checked.stdout.splitlines()
    return Checked(
        checked.stdout,
        [line for line in lines if "Revealed type" in line],
        [line for line in lines if ": error:" in line],
    )
