"""The drivers the kit runs: one per framework integration (add yours here)."""

from __future__ import annotations

from tests.integrations.asgi_driver import ASGIDriver
from tests.integrations.driver import Driver
from tests.integrations.flask_driver import FlaskDriver

DRIVERS: list[Driver] = [ASGIDriver(), FlaskDriver()]
