"""Every ```python block of docs/django.md runs inside the test project (its SQLite database
migrated, its "redis" cache on the test Redis server), as it would in a reader's project."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_docs import BLOCK, ROOT

DOC = "docs/django.md"


def blocks() -> list[Any]:
    text = (ROOT / DOC).read_text()
    return [
        pytest.param(text[: match.start()].count("\n") + 1, match.group(1), id=f"{DOC}#{number}")
        for number, match in enumerate(BLOCK.finditer(text), 1)
    ]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("line", "code"), blocks())
def test_example_runs(line: int, code: str, redis_url: str) -> None:
    exec(compile("\n" * line + code, str(ROOT / DOC), "exec"), {"__name__": "__doc_example__"})
