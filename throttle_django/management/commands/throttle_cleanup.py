"""`manage.py throttle_cleanup`: delete expired rate-limit states, as `clearsessions` does for
sessions; run it from cron (decisions overwrite expired rows, so only idle keys pile up)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from throttle_core.errors import ConfigError
from throttle_django.storage import ModelStorage


class Command(BaseCommand):
    help = "Deletes expired rate-limit states from the database and prints how many."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help='The database to clean up. Defaults to the "default" database.',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            storage = ModelStorage(options["database"])
        except ConfigError as error:
            raise CommandError(str(error)) from error
        deleted = storage.cleanup()
        if options["verbosity"] >= 1:
            plural = "" if deleted == 1 else "s"
            self.stdout.write(f"Deleted {deleted} expired rate-limit state{plural}.")
