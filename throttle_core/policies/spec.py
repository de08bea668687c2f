"""A policy declared in one place: its config, how it is built, its state and its server side.

Every module of `throttle_core.policies` that defines `SPEC` is a policy: the factory reads
configs by its `options`, `state_from_dict` finds its state type, limit strings name it when
it has `from_limit`, `RedisStorage` runs its Lua and `PostgresStorage` installs its SQL. A new
policy is one module here (plus its Lua and SQL files); nothing else lists policies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from throttle_core.duration import MAX_INTERVAL, Rate, describe_period, parse_count, parse_interval
from throttle_core.errors import ConfigError
from throttle_core.policies.base import MAX_STORED_COUNT, MAX_TTL_SECONDS
from throttle_core.suggest import unknown_fields

REQUIRED: Any = object()
"""The default of an option a config must give."""
MAX_NAME = 14
"""The longest policy name: `PostgresStorage` names a table's decision function
`<table>_<policy>`, a table name may be 48 characters and PostgreSQL cuts identifiers at 63."""
_NAME = re.compile(rf"[a-z][a-z0-9_]{{0,{MAX_NAME - 1}}}")


@dataclass(frozen=True, slots=True)
class Option:
    """One config field: `parse` reads a user's value into its canonical form (raising
    `ConfigError`), and `default` fills it in when it is missing (`REQUIRED`: it may not be)."""

    parse: Callable[[Any], Any]
    default: Any = REQUIRED


@dataclass(frozen=True, slots=True)
class ServerSide:
    """What a storage deciding on its server needs of a policy class.

    `params` names the values of the policy's `server_args()`, in order, with their SQL types
    (a script reads them in the same order, after the shared arguments). `lua` is the text of
    the script run after the shared head; `sql` the PL/pgSQL block deciding inside the shared
    frame.
    `checks` are jsonpath filters a stored state must pass, beyond its fields' JSON types: the
    ranges of the state's `problem()` (`$now`: the time decided at).
    """

    params: tuple[tuple[str, str], ...]
    lua: str
    sql: str
    checks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """A policy: `name` (its config's "policy"), the `options` of its config besides "policy"
    and "id", `build` from a normalized config (None: the policy limits nothing), `describe`
    for people ("fixed_window, 10 per minute"), its `state_type` and `policy_type` (whose
    `server`, if any, says how servers decide it), `check` for rules between options, and
    `from_limit` for the options a limit string "<amount>/<interval>" means (None: the policy
    is not read from limit strings)."""

    name: str
    options: Mapping[str, Option]
    build: Callable[[Mapping[str, Any]], Any]
    describe: Callable[[Mapping[str, Any]], str]
    state_type: type[Any] | None = None
    policy_type: type[Any] | None = None
    check: Callable[[dict[str, Any]], None] | None = None
    from_limit: Callable[[int, float], dict[str, Any]] | None = None
    fields: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ConfigError(
                f"a policy name must be 1 to {MAX_NAME} lower-case letters, digits and "
                f"underscores, starting with a letter (it names SQL functions and Lua "
                f"scripts), got {self.name!r}"
            )
        object.__setattr__(self, "fields", frozenset({"policy", "id", *self.options}))

    def normalize(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """`config` with every option read and defaults filled in; `ConfigError` otherwise."""
        unknown = set(config) - self.fields
        if unknown:
            raise unknown_fields(f"{self.name} config", unknown, self.fields)
        limiter_id = config.get("id")
        if not isinstance(limiter_id, str) or not limiter_id:
            raise ConfigError(f"id must be a non-empty string, got {limiter_id!r}")
        for name, option in self.options.items():
            if name not in config and option.default is REQUIRED:
                raise ConfigError(f"{self.name} config {limiter_id!r} needs {name!r}")
        out: dict[str, Any] = {"policy": self.name, "id": limiter_id}
        for name, option in self.options.items():
            out[name] = option.parse(config[name]) if name in config else option.default
        if self.check is not None:
            self.check(out)
        return out


def server_file(path: str) -> str:
    """The text of a built-in policy's Lua or SQL file, by its path under
    `throttle_core/storage` ("lua/token_bucket.lua")."""
    resource = files("throttle_core") / "storage"
    for part in path.split("/"):
        resource = resource / part
    return resource.read_text("utf-8")


def near(name: str) -> str:
    """The jsonpath check that the stored time `name` is one a decision at `$now` writes."""
    field = f'@."{name}"'
    return f"{field} >= $now - {MAX_TTL_SECONDS} && {field} <= $now + {MAX_TTL_SECONDS}"


def counted(name: str, low: int = 0) -> str:
    """The jsonpath check that the stored count `name` is one a decision writes."""
    field = f'@."{name}"'
    return f"{field} >= {low} && {field} <= {MAX_STORED_COUNT}"


def rate_option(value: object) -> dict[str, Any]:
    """A config's `rate`, as `{"interval", "amount"}`."""
    return Rate.coerce(value).to_dict()


def fills_in_time(config: dict[str, Any]) -> None:
    """`ConfigError` unless a config's `limit` refills at its `rate` within 100 years (the
    longest interval): a longer fill would overflow the expiry times storages keep."""
    rate = Rate.coerce(config["rate"])
    if config["limit"] / rate.tokens_per_second > MAX_INTERVAL:
        kind = config["policy"].replace("_", " ")
        raise ConfigError(
            f"a {kind} of limit {config['limit']} refilled at {rate.amount} per "
            f"{rate.interval:g}s takes more than 100 years to fill; refill it faster"
        )


def rated_limit(amount: int, interval: float) -> dict[str, Any]:
    """The options of limit string "<amount>/<interval>" for a policy refilled at a rate: a
    burst of `amount`, refilled `amount` per `interval`."""
    return {"limit": amount, "rate": {"interval": interval, "amount": amount}}


def counted_limit(amount: int, interval: float) -> dict[str, Any]:
    """The options of limit string "<amount>/<interval>" for a window policy."""
    return {"limit": amount, "interval": interval}


LIMIT = Option(lambda value: parse_count(value, "limit"))
"""The `limit` option: a count from 1 to 2**53."""
RATE = Option(rate_option)
"""The `rate` option: a `Rate`, a limit string or `{"interval", "amount"}`."""
INTERVAL = Option(parse_interval)
"""The `interval` option: a duration from a millisecond to 100 years."""


def rated_spec(policy_type: type[Any], state_type: type[Any], refilled: str) -> PolicySpec:
    """The spec of a policy configured as `policy_type(limit, rate)`: a burst and the rate at
    which it comes back ("token_bucket, burst 10, refilled 5 per minute", with `refilled`
    "refilled " there)."""

    def describe(config: Mapping[str, Any]) -> str:
        rate = config["rate"]
        per = describe_period(rate["interval"])
        return f"{policy_type.name}, burst {config['limit']}, {refilled}{rate['amount']} per {per}"

    return PolicySpec(
        name=policy_type.name,
        options={"limit": LIMIT, "rate": RATE},
        build=lambda config: policy_type(config["limit"], Rate.coerce(config["rate"])),
        describe=describe,
        state_type=state_type,
        policy_type=policy_type,
        check=fills_in_time,
        from_limit=rated_limit,
    )
