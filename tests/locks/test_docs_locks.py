"""Every ```python block of docs/locks.md runs, against private redis-server processes: the
docs' default Redis (port 6379) and its three Redlock servers (ports 6380-6382) are redirected
to four fresh servers, so the examples stay as a reader would write them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio

from tests.redis_support import redis_servers
from tests.test_docs import BLOCK, ROOT

pytestmark = [pytest.mark.redis, pytest.mark.slow]

DOC = "docs/locks.md"
DOC_PORTS = (6379, 6380, 6381, 6382)


@pytest.fixture
def doc_servers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with redis_servers(len(DOC_PORTS), tmp_path) as servers:
        ports = {doc: server.port for doc, server in zip(DOC_PORTS, servers, strict=True)}

        for cls in (redis.Redis, redis.asyncio.Redis):
            monkeypatch.setattr(cls, "__init__", redirected(cls.__init__, ports))
        yield


def redirected(init: Any, ports: dict[int, int]) -> Any:
    """`init` with the client's port (6379 when not given) swapped for a private server's."""

    def __init__(self: Any, **options: Any) -> None:
        init(self, **{**options, "host": "127.0.0.1", "port": ports[options.get("port", 6379)]})

    return __init__


def blocks() -> list[Any]:
    text = (ROOT / DOC).read_text()
    return [
        pytest.param(text[: match.start()].count("\n") + 1, match.group(1), id=f"{DOC}#{number}")
        for number, match in enumerate(BLOCK.finditer(text), 1)
    ]


@pytest.mark.usefixtures("doc_servers")
@pytest.mark.parametrize(("line", "code"), blocks())
def test_example_runs(line: int, code: str) -> None:
    exec(compile("\n" * line + code, str(ROOT / DOC), "exec"), {"__name__": "__doc_example__"})
