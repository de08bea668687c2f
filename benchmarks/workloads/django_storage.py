"""Workload 8, the Django database as storage: `ModelStorage` on PostgreSQL next to
`PostgresStorage` on the same server (decisions/s on one connection each), and `ModelStorage`
on a SQLite file.

Django's settings are one per process and the framework workload configures them without a
database, so this workload runs in a child process of its own (`python -m
benchmarks.workloads.django_storage`), which makes a fresh PostgreSQL database and a SQLite
file, migrates both, measures, drops what it made and prints its figures as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.adapters.base import POLICIES
from benchmarks.adapters.throttle_suite import config
from benchmarks.record import Row, fresh_key
from benchmarks.settings import Services, Settings
from benchmarks.timing import Sample, interleaved, throughput
from example_projects.django_site.databases import database, scratch_database

LIMIT = 10**9
PERIOD = 3600
CONTENDERS = ("ModelStorage/postgres", "PostgresStorage/postgres", "ModelStorage/sqlite")
"""Each `storage/database` measured, for every policy."""


def run(settings: Settings, services: Services) -> list[Row]:
    assert services.postgres_url is not None
    command = [
        sys.executable, "-m", __name__, services.postgres_url, services.namespace,
        str(settings.postgres_hits), str(settings.server_repeats),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the Django storage workload failed:\n{done.stderr[-4000:]}")
    rows = [Row.from_dict(data) for data in json.loads(done.stdout.splitlines()[-1])]
    return rows


def measure(postgres_url: str, sqlite_path: Path, hits: int, repeats: int) -> list[Row]:
    """Configure Django on the two databases, migrate them and time every contender."""
    import django
    from django.conf import settings
    from django.core.management import call_command

    settings.configure(
        SECRET_KEY="bench",
        INSTALLED_APPS=["throttle_django"],
        DATABASES={
            "default": database(postgres_url),
            "sqlite": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(sqlite_path)},
        },
        USE_TZ=True,
    )
    django.setup()
    for alias in ("default", "sqlite"):
        call_command("migrate", database=alias, verbosity=0)

    from throttle_core import RateLimiterFactory
    from throttle_core.storage.postgres import PostgresStorage
    from throttle_django.storage import ModelStorage

    postgres = PostgresStorage(postgres_url)
    postgres.create_table()
    storages = {
        "ModelStorage/postgres": ModelStorage("default"),
        "PostgresStorage/postgres": postgres,
        "ModelStorage/sqlite": ModelStorage("sqlite"),
    }

    def sample(storage: Any, policy: str, keys: Callable[[], Sequence[str]]) -> Sample:
        def one() -> float:
            create = RateLimiterFactory(config(policy, LIMIT, PERIOD), storage).create
            batch = keys()

            def hit(key: str) -> bool:
                return create(key).consume().accepted

            hit(batch[0] + "-warm")
            return throughput(hit, batch)

        return one

    plan = {
        f"{name}/{policy}": sample(storages[name], policy, fresh_key(f"{i}{policy}", hits))
        for policy in POLICIES
        for i, name in enumerate(CONTENDERS)
    }
    try:
        measured = interleaved(plan, repeats)
    finally:
        postgres.close()
    rows = []
    for label, result in measured.items():
        storage, backend, policy = label.split("/")
        row = Row("django_storage", "throttle-suite", storage, policy, backend)
        row.measured("decisions_per_s", result)
        rows.append(row)
    return rows


def main(argv: Sequence[str]) -> int:
    postgres_url, namespace, hits, repeats = argv
    with (
        scratch_database(postgres_url, f"{namespace}_django") as url,
        tempfile.TemporaryDirectory() as folder,
    ):
        rows = measure(url, Path(folder) / "bench.sqlite3", int(hits), int(repeats))
        from django.db import connections

        connections.close_all()
    sys.stdout.write("\n" + json.dumps([row.to_dict() for row in rows]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
