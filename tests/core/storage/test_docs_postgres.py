"""Every ```python block of docs/postgres.md runs against the test server as a reader would
write it: DATABASE_URL points at the test database and PGOPTIONS puts a fresh schema first
on the search path, so the examples' tables land there and are dropped with it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.test_docs import BLOCK, ROOT

pytestmark = pytest.mark.postgres

DOC = "docs/postgres.md"


@pytest.fixture
def doc_schema(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    schema = f"docs_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        monkeypatch.setenv("DATABASE_URL", postgres_url)
        monkeypatch.setenv("PGOPTIONS", f"-c search_path={schema}")
        try:
            yield
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def blocks() -> list[Any]:
    text = (ROOT / DOC).read_text()
    return [
        pytest.param(text[: match.start()].count("\n") + 1, match.group(1), id=f"{DOC}#{number}")
        for number, match in enumerate(BLOCK.finditer(text), 1)
    ]


@pytest.mark.usefixtures("doc_schema")
@pytest.mark.parametrize(("line", "code"), blocks())
def test_example_runs(line: int, code: str) -> None:
    exec(compile("\n" * line + code, str(ROOT / DOC), "exec"), {"__name__": "__doc_example__"})
