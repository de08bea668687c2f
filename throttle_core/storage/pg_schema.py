"""The SQL of a PostgresStorage table: its name, the DDL of the table and of each policy's
decision function (frame.sql around the policy's own block), and the statements run on it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import fields
from importlib.resources import files
from typing import Any

from psycopg import sql

from throttle_core.errors import ConfigError
from throttle_core.policies import MAX_TTL_SECONDS, SPECS, STATE_VERSION, ServerSide, StateBase
from throttle_core.storage.pg_batches import batch_statement

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,47}")
_LARGEST_DOUBLE = "1.7976931348623157e308"
_SMALLEST_DOUBLE = "4.9406564584124654e-324"


def table_identifier(table: object) -> tuple[str, ...]:
    """`"name"` or `"schema.name"` as identifier parts; each part a plain SQL name of at most
    48 characters (so the derived index and function names fit), or `ConfigError`."""
    if not isinstance(table, str) or not all(_NAME.fullmatch(p) for p in table.split(".", 1)):
        raise ConfigError(
            "table must be a name or schema.name made of letters, digits and underscores "
            f"(at most 48 each, not starting with a digit), got {table!r}"
        )
    return tuple(table.split(".", 1))


def _field_checks(name: str, kind: str) -> list[str]:
    field = f'@."{name}"'
    if kind == "str":
        return [f'{field}.type() == "string"']
    if kind == "tuple[int, ...]":
        return [
            f'{field}.type() == "array"',
            f"{field}.size() > 0",
            f'!exists({field}[*] ? (@.type() != "number" || @ < 0 || @.floor() != @))',
        ]
    checks = [
        f'{field}.type() == "number"',
        f"{field}.abs() <= {_LARGEST_DOUBLE}",
        f"({field} == 0 || {field}.abs() >= {_SMALLEST_DOUBLE})",
    ]
    return [*checks, f"{field}.floor() == {field}"] if kind == "int" else checks


def state_jsonpath(state_type: type[StateBase], ranges: Sequence[str]) -> str:
    """A jsonpath matching the stored dicts that `state_type.from_dict` accepts and a decision
    at `$now` could have written: the fields its dataclass declares, with their JSON types and
    finite doubles, within `ranges` (the policy's `server.checks`)."""
    checks = [f'@."type" == "{state_type.type}"', f'@."v" == {STATE_VERSION}']
    for field in fields(state_type):  # type: ignore[arg-type]
        checks += _field_checks(field.name, str(field.type))
    return "strict $ ? (" + " && ".join([*checks, *ranges]) + ")"


def server_side(policy: object) -> ServerSide:
    """The server side of `policy`'s class; `TypeError` for a policy without one."""
    server = getattr(type(policy), "server", None)
    state_type = getattr(type(policy), "state_type", None)
    if not isinstance(server, ServerSide) or not isinstance(state_type, type):
        raise TypeError(
            f"PostgresStorage cannot decide a {type(policy).__name__} policy: it declares no "
            "server side (server, server_args())"
        )
    return server


SERVER_POLICIES: dict[str, type[Any]] = {
    name: kind
    for name, spec in SPECS.items()
    if (kind := spec.policy_type) is not None
    and isinstance(getattr(kind, "server", None), ServerSide)
}
"""The policies whose decision functions `create_table` installs, by name."""
FRAME = (files("throttle_core.storage") / "sql" / "frame.sql").read_text("utf-8")
"""The decision function's DDL, with the policy's block, names and checks still to fill in."""


def rendered(template: str, **parts: sql.Composable) -> bytes:
    """`template` with `parts` filled in, as the bytes sent: psycopg renders a `Composed`
    again on every execution, while bytes go straight to its cache of parsed queries."""
    return sql.SQL(template).format(**parts).as_bytes(None)


class Statements:
    """The SQL of one table, composed once: identifiers quoted by psycopg.sql; the statements
    the storage runs rendered to bytes (`rendered`)."""

    def __init__(self, table: tuple[str, ...]) -> None:
        *schema, name = table
        self.table = sql.Identifier(*table)
        index = sql.Identifier(f"{name}_expires_at_idx")
        now = sql.SQL("to_timestamp(coalesce(%s::float8, date_part('epoch', now())))")
        fmt = {"t": self.table, "now": now}
        self.fetch = rendered(
            "SELECT data::text FROM {t} "
            "WHERE id = %s AND (expires_at IS NULL OR expires_at > {now})",
            **fmt,
        )
        self.save = rendered(
            "INSERT INTO {t} (id, data, expires_at) VALUES (%s, %s::jsonb, "
            "to_timestamp(coalesce(%s::float8, date_part('epoch', now())) + %s::float8)) "
            "ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
            **fmt,
        )
        self.delete = rendered("DELETE FROM {t} WHERE id = %s", **fmt)
        self.cleanup = rendered(
            "DELETE FROM {t} WHERE id IN (SELECT id FROM {t} WHERE expires_at <= {now} "
            "LIMIT %s FOR UPDATE SKIP LOCKED)",
            **fmt,
        )
        self._schema = schema
        self._name = name
        self._decide: dict[type[Any], tuple[bytes, bytes]] = {}
        self.create_function: sql.Composed = sql.SQL(";\n").join(
            [self._function(policy) for policy in SERVER_POLICIES.values()]
        )
        """The decision functions alone (Django's migrations install them on their table)."""
        self.drop_function: sql.Composed = sql.SQL("DROP FUNCTION IF EXISTS {f}").format(
            f=sql.SQL(", ").join(self.function_of(name) for name in SERVER_POLICIES)
        )
        self.create: bytes = (
            sql.SQL(";\n")
            .join(
                [
                    sql.SQL("SELECT pg_advisory_xact_lock(7301, hashtext({name}))").format(
                        name=sql.Literal(".".join(table))
                    ),
                    sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {t} "
                        "(id text PRIMARY KEY, data jsonb NOT NULL, expires_at timestamptz)"
                    ).format(**fmt),
                    sql.SQL("CREATE INDEX IF NOT EXISTS {i} ON {t} (expires_at)").format(
                        i=index, **fmt
                    ),
                    self.create_function,
                ]
            )
            .as_bytes(None)
        )
        self.drop: bytes = (
            self.drop_function + sql.SQL("; DROP TABLE IF EXISTS {t}").format(**fmt)
        ).as_bytes(None)

    def function_of(self, policy_name: str) -> sql.Identifier:
        """The decision function of the policy named `policy_name` on this table."""
        return sql.Identifier(*self._schema, f"{self._name}_{policy_name}")

    def _function(self, policy: type[Any]) -> sql.Composed:
        server: ServerSide = policy.server
        params = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(f"p_{name}"), sql.SQL(kind))
            for name, kind in server.params
        )
        return sql.SQL(FRAME).format(
            table=self.table,
            function=self.function_of(policy.name),
            params=params,
            valid=sql.Literal(state_jsonpath(policy.state_type, server.checks)),
            decide=sql.SQL(server.sql.strip()),
            max_ttl=sql.Literal(MAX_TTL_SECONDS),
        )

    def decide(self, policy: object) -> tuple[bytes, bytes]:
        """The statement deciding `policy` (its function called with the shared arguments
        and the policy's `server_args()`), and its batched form (`batch_statement`)."""
        kind: type[Any] = type(policy)
        statements = self._decide.get(kind)
        if statements is None:
            server = server_side(policy)
            types = [*SHARED_PARAMS, *(t for _, t in server.params)]
            function = self.function_of(kind.name)
            casts = sql.SQL(", ").join(sql.SQL(f"%s::{t}") for t in types)
            single = rendered(
                "SELECT stored_state::text, decided_at FROM {f}({casts})", f=function, casts=casts
            )
            many = batch_statement(function, types).as_bytes(None)
            statements = self._decide[kind] = (single, many)
        return statements


SHARED_PARAMS = ("text", "bigint", "float8", "float8", "float8", "float8", "boolean")
"""The types of the arguments every decision function takes first (frame.sql)."""
DURABLE = SHARED_PARAMS.index("boolean")
"""Where a decision's arguments hold `p_durable`."""


def joining(params: tuple[Any, ...]) -> tuple[Any, ...]:
    """The arguments of a decision (or the argument arrays of a batch of them) sent from
    inside a transaction of the caller's: durable, since that commit is the caller's to make.
    The function cannot tell by itself: under the extended query protocol a statement's
    timestamp is never its transaction's."""
    flag = params[DURABLE]
    durable = [True] * len(flag) if isinstance(flag, list) else True
    return (*params[:DURABLE], durable, *params[DURABLE + 1 :])
