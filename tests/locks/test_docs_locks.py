"""Every ```python block of docs/locks.md runs against private redis-server processes: the
docs' default Redis (port 6379) and its three Redlock servers (ports 6380-6382) are redirected
to four fresh servers, so the examples stay as a reader would write them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_support import reader_redis
from tests.test_docs import examples, run_example

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def doc_servers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with reader_redis((6379, 6380, 6381, 6382), tmp_path, monkeypatch):
        yield


@pytest.mark.usefixtures("doc_servers")
@pytest.mark.parametrize(("document", "line", "code"), examples("docs/locks.md"))
def test_example_runs(document: str, line: int, code: str) -> None:
    run_example(document, line, code)
