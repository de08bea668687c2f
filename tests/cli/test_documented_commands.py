"""Every `throttle demo` and `throttle simulate` command the README and docs/cli.md show runs
as written (storage commands need a deployment's servers and are tested on their own)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.cli.conftest import run_throttle

ROOT = Path(__file__).resolve().parents[2]
SHELL = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def documented() -> list[object]:
    found: list[object] = []
    for name in ("README.md", "docs/cli.md"):
        for block in SHELL.findall((ROOT / name).read_text()):
            for command in block.replace("\\\n", " ").splitlines():
                words = shlex.split(command, comments=True)
                if words[:1] == ["throttle"] and words[1] in ("demo", "simulate"):
                    found.append(pytest.param(words[1:], id=f"{name}: {' '.join(words[:2])}"))
    return found


@pytest.mark.parametrize("args", documented())
def test_documented_command_runs(args: list[str], tmp_path: Path) -> None:
    if "--plot" in args:
        args[args.index("--plot") + 1] = str(tmp_path / Path(args[args.index("--plot") + 1]).name)
    done = run_throttle(*args)
    assert done.returncode == 0, done.stderr
    assert done.stdout
