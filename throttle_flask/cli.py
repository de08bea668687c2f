"""`flask throttle`: the limits of every endpoint, and one counter's state or reset."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

throttle_commands = AppGroup("throttle", help="Rate limits of this app: list, inspect, reset.")


@throttle_commands.command("limits")
def limits_command() -> None:
    """Every endpoint with the limits that cover it; exempt endpoints are marked."""
    from throttle_flask.extension import state_of

    state = state_of(current_app)
    for rule in current_app.url_map.iter_rules():
        click.echo(f"{rule.endpoint} {rule.rule} {state.endpoint_limits(rule.endpoint)}")
