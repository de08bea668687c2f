"""Every ```python block in the documentation runs, so no example in the docs is stale."""

from __future__ import annotations

import re
import shlex
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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
PIP_INSTALL = re.compile(r"pip install ([^`#\n]*)")


def examples(document: str) -> list[Any]:
    """Every ```python block of `document` as a `(document, line, code)` parameter, named by
    its place."""
    text = (ROOT / document).read_text()
    return [
        pytest.param(
            document, text[: match.start()].count("\n") + 1, match.group(1),
            id=f"{document}#{number}",
        )
        for number, match in enumerate(BLOCK.finditer(text), 1)
    ]  # fmt: skip


def run_example(
    document: str, line: int, code: str, namespace: dict[str, Any] | None = None
) -> None:
    """Run one block of `document` (in a fresh namespace unless one is given), its lines
    numbered as in the document, so a failure points at the page."""
    compiled = compile("\n" * line + code, str(ROOT / document), "exec")
    exec(compiled, {"__name__": "__doc_example__"} if namespace is None else namespace)


@contextmanager
def reader_postgres(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The test database where documentation examples look for one: `DATABASE_URL` names it
    and `PGOPTIONS` puts a fresh schema first on the search path, so the examples' tables
    land there and are dropped with it."""
    import psycopg

    schema = f"docs_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        monkeypatch.setenv("DATABASE_URL", postgres_url)
        monkeypatch.setenv("PGOPTIONS", f"-c search_path={schema}")
        try:
            yield
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.mark.parametrize(
    ("document", "line", "code"), [p for name in DOCUMENTS for p in examples(name)]
)
def test_example_runs(document: str, line: int, code: str) -> None:
    run_example(document, line, code)


def test_every_pip_install_shown_installs_from_a_checkout() -> None:
    """The suite is not on a package index yet: an install the README or the docs show is of
    a checkout (`pip install -e '.[extra]'`, or a path to one), never of a name an index would
    have to find."""
    shown = 0
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for match in PIP_INSTALL.finditer(page.read_text()):
            words = shlex.split(match.group(1))
            assert words[:1] == ["-e"], f"{page.name}: {match.group(0)}"
            assert words[1].startswith((".", "/")), f"{page.name}: {match.group(0)}"
            shown += 1
    assert shown >= 10
