"""The decision function on PostgreSQL: `PostgresStorage`'s SQL, installed on the model's table.

A migration operation installs it (and drops it when reversed); every `migrate` also replaces
it with this version's, so upgrading the package and running `migrate` always leaves the
function the Python code expects.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.operations.base import Operation

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor

    from throttle_core.storage.pg_schema import Statements
    from throttle_core.storage.postgres import Programs


def decides_on_server(connection: BaseDatabaseWrapper) -> bool:
    """Whether `connection` runs the decision function: PostgreSQL through psycopg 3 (with
    psycopg2, and on other databases, the storage runs the policy in Python instead)."""
    if connection.vendor != "postgresql":
        return False
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3


@cache
def programs(table: str) -> Programs:
    """The core's PostgreSQL programs for `table` (expiry judged by the server's clock)."""
    from throttle_core.storage.postgres import Programs

    return Programs(table, clock=None, durable=False)


def statements(table: str) -> Statements:
    return programs(table).sql


def _execute(schema_editor: BaseDatabaseSchemaEditor, statement: Any) -> None:
    schema_editor.execute(statement.as_string(None), None)


class OnPostgres(Operation):
    """A migration operation that runs SQL on the state table's database only where it is
    PostgreSQL through psycopg 3 (`decides_on_server`), and nothing elsewhere."""

    reversible = True
    reduces_to_sql = True

    def forwards(self, schema_editor: BaseDatabaseSchemaEditor, table: str) -> None:
        return

    def backwards(self, schema_editor: BaseDatabaseSchemaEditor, table: str) -> None:
        return

    def state_forwards(self, app_label: str, state: Any) -> None:
        return

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: Any,
        to_state: Any,
    ) -> None:
        if decides_on_server(schema_editor.connection):
            self.forwards(schema_editor, _table(to_state))

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: Any,
        to_state: Any,
    ) -> None:
        if decides_on_server(schema_editor.connection):
            self.backwards(schema_editor, _table(from_state))

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return f"throttle_django.postgres.{type(self).__name__}", [], {}


class DecisionFunction(OnPostgres):
    """Migration operation: create the decision functions of the state table on PostgreSQL
    (through psycopg 3), drop them when reversed; nothing on other databases. Shown by
    `sqlmigrate`."""

    def forwards(self, schema_editor: BaseDatabaseSchemaEditor, table: str) -> None:
        _execute(schema_editor, statements(table).create_function)

    def backwards(self, schema_editor: BaseDatabaseSchemaEditor, table: str) -> None:
        _execute(schema_editor, statements(table).drop_function)

    def describe(self) -> str:
        return "Create the rate-limit decision function (PostgreSQL)"


class DropSingleDecisionFunction(OnPostgres):
    """Migration operation: drop the one decision function of the first release (a branch
    per policy) on PostgreSQL; each policy now has its own, installed by `DecisionFunction`.
    Reversing it leaves nothing to restore."""

    def forwards(self, schema_editor: BaseDatabaseSchemaEditor, table: str) -> None:
        name = schema_editor.quote_name(f"{table}_decide")
        schema_editor.execute(
            f"DROP FUNCTION IF EXISTS {name}(text, text, bigint, float8, text, bigint, "
            "float8, float8, float8, float8, boolean)",
            None,
        )

    def describe(self) -> str:
        return "Drop the single decision function of the first release (PostgreSQL)"


def _table(state: Any) -> str:
    return str(state.apps.get_model("throttle_django", "State")._meta.db_table)


def refresh_function(using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """`post_migrate` receiver: replace the function with this version's where the state
    table exists (so an upgrade followed by `migrate` never runs a stale decision)."""
    from throttle_django.models import State

    connection = connections[using]
    if decides_on_server(connection):
        table = State._meta.db_table
        if table in connection.introspection.table_names():
            with connection.schema_editor() as schema_editor:
                _execute(schema_editor, statements(table).create_function)
