"""Every ```python block in the documentation runs, so no example in the docs is stale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [
    "README.md",
    "docs/core.md",
    "docs/asgi.md",
    "docs/keys.md",
    "docs/headers.md",
    "docs/settings.md",
    "docs/flask.md",
    "docs/cli.md",
    "docs/gcra.md",
]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks() -> list[object]:
    found: list[object] = []
    for name in DOCUMENTS:
        text = (ROOT / name).read_text()
        for number, match in enumerate(BLOCK.finditer(text), 1):
            line = text[: match.start()].count("\n") + 1
            found.append(pytest.param(name, line, match.group(1), id=f"{name}:{line}#{number}"))
    return found


@pytest.mark.parametrize(("name", "line", "code"), blocks())
def test_example_runs(name: str, line: int, code: str) -> None:
    exec(compile("\n" * line + code, str(ROOT / name), "exec"), {"__name__": "__doc_example__"})
