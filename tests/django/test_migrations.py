"""Migrations: reversible on SQLite and PostgreSQL (the decision function with them), and
`makemigrations --check` clean whatever the project's DEFAULT_AUTO_FIELD."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings

from throttle_core.storage.postgres import SERVER_POLICIES
from throttle_django.models import State

FUNCTIONS = [f"throttle_django_state_{policy}" for policy in SERVER_POLICIES]
"""One decision function per policy that decides on the server."""
FUNCTION = FUNCTIONS[0]


def function_exists(using: str) -> bool:
    """Whether every policy's decision function is installed."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = ANY(%s)", [FUNCTIONS])
        return bool(cursor.fetchone()[0] == len(FUNCTIONS))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases=["postgres"])
def test_the_single_function_of_the_first_release_is_dropped() -> None:
    old = "throttle_django_state_decide"
    with connections["postgres"].cursor() as cursor:
        cursor.execute(
            f"CREATE OR REPLACE FUNCTION {old}(p_id text, p_policy text, p_limit bigint, "
            "p_size float8, p_align text, p_tokens bigint, p_max_wait float8, "
            "p_refund_at float8, p_now float8, p_clock float8, p_durable boolean) "
            "RETURNS integer LANGUAGE sql AS 'SELECT 1'"
        )
    call_command("migrate", "throttle_django", "0001", database="postgres", verbosity=0)
    call_command("migrate", "throttle_django", database="postgres", verbosity=0)
    with connections["postgres"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = %s", [old])
        assert cursor.fetchone()[0] == 0
    assert function_exists("postgres")


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
        cursor.execute(f"DROP FUNCTION {', '.join(FUNCTIONS)}")
    call_command("migrate", database="postgres", verbosity=0)
    assert function_exists("postgres")


@pytest.mark.postgres
@pytest.mark.django_db(databases=["postgres"])
def test_sqlmigrate_shows_the_function() -> None:
    from io import StringIO

    out = StringIO()
    call_command("sqlmigrate", "throttle_django", "0001", database="postgres", stdout=out)
    assert f'CREATE OR REPLACE FUNCTION "{FUNCTION}"' in out.getvalue()
