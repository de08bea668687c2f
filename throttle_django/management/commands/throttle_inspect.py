"""`manage.py throttle_inspect ID KEY`: what one rate-limit counter holds now, in the storage
the settings name: its policy, what remains of the configured limit with that id, and when it
is full again. Nothing is changed."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from throttle_core.counters import inspect_counter
from throttle_core.errors import ConfigError
from throttle_django import conf
from throttle_django.limits import configured_limit


class Command(BaseCommand):
    help = (
        "Shows one rate-limit counter: ID is the limit's id, KEY the key as the rule computes "
        "it (an address, 2001:db8::/64, a header value, user:42); no KEY means the bare id."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("id", help="The limit's id, e.g. login.")
        parser.add_argument("key", nargs="?", default=None, help="The key, e.g. 203.0.113.7.")
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        counter, key = options["id"], options["key"]
        try:
            storage = conf.configuration().options.storage
            config = configured_limit(counter)
            report = inspect_counter(storage, counter, key, config)
        except (ConfigError, TypeError) as error:
            raise CommandError(str(error)) from error
        except DatabaseError as error:
            raise CommandError(f"{error} (has `manage.py migrate` been run?)") from error
        if options["json"]:
            self.stdout.write(json.dumps(report.to_dict(), indent=2))
            return
        self.stdout.write("\n".join(report.lines()))
        if config is None:
            self.stdout.write(
                f"No configured limit has the id {counter!r} (THROTTLE's LIMITS and RULES, "
                "the views' @limit): remaining needs the limit."
            )
