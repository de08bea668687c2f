"""A missing optional dependency says which extra of throttle-suite brings it."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def run_without(module: str, code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter where `module` cannot be imported."""
    blocked = f"import sys; sys.modules[{module!r}] = None\n"
    return subprocess.run(
        [sys.executable, "-c", blocked + code],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("module", "code", "extra"),
    [
        ("redis", "from throttle_core.storage import RedisStorage", "redis"),
        ("redis", "from throttle_core.locks import RedisLock", "redis"),
        ("redis", "import throttle_core; throttle_core.storage_from_url('redis://h/0')", "redis"),
        ("psycopg", "from throttle_core.storage import PostgresStorage", "postgres"),
        ("psycopg_pool", "from throttle_core.storage import PostgresStorage", "postgres"),
        ("starlette", "import throttle_asgi", "asgi"),
        ("starlette", "from throttle_asgi.middleware import RateLimitMiddleware", "asgi"),
    ],
)
def test_the_error_names_the_extra_to_install(module: str, code: str, extra: str) -> None:
    result = run_without(module, code)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        f"ModuleNotFoundError: {module} is not installed; install it with: "
        f"pip install -e '.[{extra}]' (in a checkout of throttle-suite)"
    )


def test_the_core_needs_no_extra() -> None:
    code = (
        "import throttle_core\n"
        "from throttle_core.storage import InMemoryStorage, ResilientStorage\n"
        "f = throttle_core.RateLimiterFactory('5/minute', ResilientStorage('memory://'))\n"
        "assert f.create('k').consume()\n"
    )
    for module in ("redis", "psycopg"):
        assert run_without(module, code).returncode == 0


def test_pg_init_says_which_extra_to_install() -> None:
    code = (
        "import sys\nfrom throttle_core.cli import main\n"
        "sys.exit(main(['pg-init', 'postgresql://postgres@127.0.0.1/db']))\n"
    )
    result = run_without("psycopg", code)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "throttle pg-init: error: psycopg is not installed; install it with: "
        "pip install -e '.[postgres]' (in a checkout of throttle-suite)"
    )
