"""`manage.py throttle_reset ID [KEY]`: forget one rate-limit counter in the storage the
settings name (the counter is full again), e.g. to let a locked-out client back in."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from throttle_core.counters import reset_counter
from throttle_core.errors import ConfigError
from throttle_core.ids import state_id
from throttle_django import conf


class Command(BaseCommand):
    help = (
        "Resets one rate-limit counter: ID is the limit's id (a rule's id, or the counter id "
        "of an unnamed limit), KEY the key as the rule computes it (an address, "
        "2001:db8::/64, a header value, user:42); no KEY means the bare id."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("id", help="The limit's id, e.g. login.")
        parser.add_argument("key", nargs="?", default=None, help="The key, e.g. 203.0.113.7.")

    def handle(self, *args: Any, **options: Any) -> None:
        counter, key = options["id"], options["key"]
        try:
            storage = conf.configuration().options.storage
            found = reset_counter(storage, counter, key)
        except (ConfigError, TypeError) as error:
            raise CommandError(str(error)) from error
        except DatabaseError as error:
            raise CommandError(f"{error} (has `manage.py migrate` been run?)") from error
        if options["verbosity"] >= 1:
            sid = state_id(counter, key)
            if found:
                self.stdout.write(f"Reset 1 rate-limit counter ({sid}).")
            else:
                self.stdout.write(f"Reset 0 rate-limit counters: nothing was stored as {sid}.")
