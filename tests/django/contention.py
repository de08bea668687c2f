"""Django in the worker processes of the exactness tests: settings, database overrides, and a
`ModelStorage` to hammer (spawned processes start with nothing set up)."""

from __future__ import annotations

import os
from typing import Any


def setup_django(databases: dict[str, dict[str, Any]]) -> None:
    """Set up Django with the test settings, `databases` overriding entries of DATABASES."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.django.settings"
    import django
    from django.conf import settings

    configured: Any = settings.DATABASES
    for alias, overrides in databases.items():
        configured.setdefault(alias, {}).update(overrides)
    django.setup()


def model_storage(databases: dict[str, dict[str, Any]], using: str) -> Any:
    """A `ModelStorage` on `using`, in a process where Django is not set up yet."""
    setup_django(databases)
    from throttle_django.storage import ModelStorage

    return ModelStorage(using)


def migrate(databases: dict[str, dict[str, Any]], using: str) -> None:
    """Create the tables of database `using` (a fresh SQLite file)."""
    setup_django(databases)
    from django.core.management import call_command

    call_command("migrate", database=using, verbosity=0)
