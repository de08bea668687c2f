"""`flask throttle`: the limits of every endpoint (`limits`), and one counter of the app's
storage (`inspect ID KEY`, `reset ID [KEY]`), reported as the `throttle` command does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from throttle_core.counters import describe_config, inspect_counter, reset_counter
from throttle_core.http import Rule
from throttle_core.http.keys import key_name
from throttle_core.ids import state_id
from throttle_flask.extension import AppThrottle, state_of
from throttle_flask.limits import FlaskLimit

throttle_commands = AppGroup(
    "throttle", help="Rate limits of this app: list them, inspect or reset one counter."
)


def _counters(state: AppThrottle, rule: Rule) -> Iterator[tuple[str, dict[str, Any], str]]:
    """Each limit of `rule`: its counter id, its config, and what it counts by."""
    key = rule.key if rule.key is not None else state.limiter.key
    for config, counter in zip(rule.configs, rule.counter_ids(key), strict=True):
        yield counter, config, key_name(key)


def _rule_lines(state: AppThrottle, rule: Rule, extra: str = "") -> Iterator[str]:
    where = []
    if rule.methods:
        where.append("methods " + ",".join(sorted(rule.methods)))
    if rule.paths:
        where.append("paths " + " ".join(p.pattern for p in rule.paths))
    if rule.cost != 1:
        where.append(f"cost {rule.cost}")
    for counter, config, key in _counters(state, rule):
        parts = [describe_config(config), f"key {key}", *where]
        parts += [extra] if extra else []
        yield f"  {config['id']}: {'; '.join(parts)}; counter {counter}"


def _limit_lines(state: AppThrottle, endpoint: str, limit: FlaskLimit) -> Iterator[str]:
    notes = []
    if limit.scope is not None:
        notes.append(f"one counter for {limit.scope}")
    if callable(limit.cost):
        notes.append("cost from a function")
    if limit.deduct_when is not None:
        notes.append("counted after the response when deduct_when holds")
    extra = "; ".join(notes)
    if callable(limit.limit):
        key = key_name(limit.key if limit.key is not None else state.limiter.key)
        yield f"  a limit from a function, per request; key {key}" + (f"; {extra}" if extra else "")
        return
    yield from _rule_lines(state, limit.rule(endpoint), extra)


@throttle_commands.command("limits")
def limits_command() -> None:
    """Every endpoint with the limits that cover it; exempt endpoints are marked."""
    state = state_of(current_app)
    limiter = state.limiter
    if not limiter.enabled:
        click.echo("limiting is off (THROTTLE_ENABLED is False)")
    click.echo("global limits (THROTTLE_LIMITS, THROTTLE_RULES), on the requests they match:")
    for bound in limiter.rules:
        for line in _rule_lines(state, bound.rule):
            click.echo(line)
    for rule in limiter.exempt:
        paths = " ".join(p.pattern for p in rule.paths) or "every path"
        click.echo(f"  exempt: {paths}")
    if not limiter.rules and not limiter.exempt:
        click.echo("  none")
    for url in sorted(current_app.url_map.iter_rules(), key=lambda url: url.rule):
        methods = ",".join(sorted((url.methods or set()) - {"HEAD", "OPTIONS"}))
        covered = state.endpoint_limits(url.endpoint)
        marks = ["exempt"] if covered.exempt else []
        marks += ["global limits"] if covered.global_limits and limiter.rules else []
        shown = f" ({', '.join(marks)})" if marks else ""
        click.echo(f"\n{url.endpoint}  {methods} {url.rule}{shown}")
        every = (*covered.limits, *covered.deferred)
        for limit in every:
            for line in _limit_lines(state, url.endpoint, limit):
                click.echo(line)
        if not every and not marks:
            click.echo("  no limit")


def _config_of(state: AppThrottle, counter: str) -> dict[str, Any] | None:
    """The config the app's counter `counter` runs under, if one of its limits has that id."""
    app = state.app
    rules = [bound.rule for bound in state.limiter.rules]
    for endpoint in app.view_functions:
        covered = state.endpoint_limits(endpoint)
        for limit in (*covered.limits, *covered.deferred):
            if not callable(limit.limit):
                rules.append(limit.rule(endpoint))
    for rule in rules:
        for found, config, _ in _counters(state, rule):
            if found == counter:
                return config
    return None


@throttle_commands.command("inspect")
@click.argument("counter", metavar="ID")
@click.argument("key", metavar="KEY")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def inspect_command(counter: str, key: str, as_json: bool) -> None:
    """Show one counter of the app's storage: its policy, what remains now, when the next
    request is admitted, when it is full again. Nothing is changed.

    ID is the counter's id as `flask throttle limits` shows it; KEY the key as the limit
    computes it: an address (203.0.113.7), user:<id>, a header value."""
    state = state_of(current_app)
    report = inspect_counter(state.limiter.storage, counter, key, _config_of(state, counter))
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    click.echo("\n".join(report.lines()))
    if report.config is None:
        click.echo(f"\nno limit of this app has the id {counter!r}: see `flask throttle limits`")


@throttle_commands.command("reset")
@click.argument("counter", metavar="ID")
@click.argument("key", metavar="KEY", required=False)
@click.option("--json", "as_json", is_flag=True, help="print the outcome as JSON")
def reset_command(counter: str, key: str | None, as_json: bool) -> None:
    """Forget one counter of the app's storage, so it is full again.

    ID is the counter's id as `flask throttle limits` shows it; KEY the key as the limit
    computes it (none for a limit without a key)."""
    state = state_of(current_app)
    found = reset_counter(state.limiter.storage, counter, key)
    sid = state_id(counter, key)
    if as_json:
        click.echo(json.dumps({"state_id": sid, "deleted": found}))
    elif found:
        click.echo(f"reset {sid}: its state is deleted, the counter is full again")
    else:
        click.echo(f"nothing stored under {sid}: the counter was already full")
