"""4 processes × 2 threads hammering one brand-new key through ModelStorage, every policy:
exactly the limit passes, on a SQLite file (the Python policy under the write lock) and on
PostgreSQL (the decision function)."""

from __future__ import annotations

import functools
import multiprocessing
from pathlib import Path

import pytest
from django.db import connections

from tests.core.storage.contention import admitted_by
from tests.django.contention import migrate, model_storage
from tests.policies import every_policy

pytestmark = pytest.mark.slow


def test_sqlite_file_admits_exactly_the_limit(tmp_path: Path) -> None:
    databases = {
        "file": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(tmp_path / "db.sqlite3"),
            "OPTIONS": {"timeout": 60},
        }
    }
    process = multiprocessing.get_context("spawn").Process(target=migrate, args=(databases, "file"))
    process.start()
    process.join(60)
    assert process.exitcode == 0
    admitted = admitted_by(functools.partial(model_storage, databases, "file"), 100, 100)
    assert admitted == dict.fromkeys(every_policy(100), 100)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases=["postgres"])
def test_postgres_admits_exactly_the_limit() -> None:
    databases = {"postgres": {"NAME": connections["postgres"].settings_dict["NAME"]}}
    admitted = admitted_by(functools.partial(model_storage, databases, "postgres"), 300, 300)
    assert admitted == dict.fromkeys(every_policy(300), 300)
