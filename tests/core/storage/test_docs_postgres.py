"""Every ```python block of docs/postgres.md runs against the test server as a reader would
write it (`reader_postgres`: DATABASE_URL names the test database, and the examples' tables
land in a fresh schema dropped afterwards)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.test_docs import examples, reader_postgres, run_example

pytestmark = pytest.mark.postgres


@pytest.fixture
def doc_schema(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with reader_postgres(postgres_url, monkeypatch):
        yield


@pytest.mark.usefixtures("doc_schema")
@pytest.mark.parametrize(("document", "line", "code"), examples("docs/postgres.md"))
def test_example_runs(document: str, line: int, code: str) -> None:
    run_example(document, line, code)
