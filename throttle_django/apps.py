"""The `throttle_django` app: its model, migrations, admin and management commands."""

from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ThrottleConfig(AppConfig):
    """Sets its own `default_auto_field`, so `makemigrations` finds nothing to do whatever
    the project's `DEFAULT_AUTO_FIELD` is."""

    name = "throttle_django"
    verbose_name = "Rate limiting"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from throttle_django.postgres import refresh_function

        post_migrate.connect(refresh_function, sender=self)
