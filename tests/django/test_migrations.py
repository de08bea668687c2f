"""Migrations: reversible on SQLite and PostgreSQL (the decision function with them), and
`makemigrations --check` clean whatever the project's DEFAULT_AUTO_FIELD."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings

from throttle_django.models import State

FUNCTION = "throttle_django_state_decide"


def function_exists(using: str) -> bool:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = %s", [FUNCTION])
        return bool(cursor.fetchone()[0])


def tables(using: str) -> list[str]:
    return connections[using].introspection.table_names()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "auto_field", ["django.db.models.AutoField", "django.db.models.BigAutoField"]
)
def test_makemigrations_finds_nothing_to_do(auto_field: str) -> None:
    with override_settings(DEFAULT_AUTO_FIELD=auto_field):
        call_command("makemigrations", "throttle_django", check=True, dry_run=True, verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_migrations_run_backwards_and_forwards_on_sqlite() -> None:
    call_command("migrate", "throttle_django", "zero", verbosity=0)
    assert State._meta.db_table not in tables("default")
    call_command("migrate", "throttle_django", verbosity=0)
    assert State._meta.db_table in tables("default")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases=["postgres"])
def test_migrations_install_and_drop_the_decision_function_on_postgres() -> None:
    assert function_exists("postgres")
    call_command("migrate", "throttle_django", "zero", database="postgres", verbosity=0)
    assert State._meta.db_table not in tables("postgres")
    assert not function_exists("postgres")
    call_command("migrate", "throttle_django", database="postgres", verbosity=0)
    assert State._meta.db_table in tables("postgres")
    assert function_exists("postgres")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases=["postgres"])
def test_every_migrate_replaces_a_stale_function() -> None:
    with connections["postgres"].cursor() as cursor:
        cursor.execute(f"DROP FUNCTION {FUNCTION}")
    call_command("migrate", database="postgres", verbosity=0)
    assert function_exists("postgres")


@pytest.mark.postgres
@pytest.mark.django_db(databases=["postgres"])
def test_sqlmigrate_shows_the_function() -> None:
    from io import StringIO

    out = StringIO()
    call_command("sqlmigrate", "throttle_django", "0001", database="postgres", stdout=out)
    assert f'CREATE OR REPLACE FUNCTION "{FUNCTION}"' in out.getvalue()
