"""`manage.py throttle_cleanup`: deletes the expired rows and says how many."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from throttle_django.models import State

DATA = {"type": "fixed_window"}


def rows(using: str, expired: int, live: int) -> None:
    now = datetime.now(timezone.utc)
    for n in range(expired):
        State.objects.using(using).create(
            id=f"old:{n}", data=DATA, expires_at=now - timedelta(seconds=1)
        )
    for n in range(live):
        State.objects.using(using).create(
            id=f"live:{n}", data=DATA, expires_at=now + timedelta(hours=1)
        )


def cleanup(*args: str) -> str:
    out = StringIO()
    call_command("throttle_cleanup", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_deletes_expired_rows_and_prints_how_many() -> None:
    rows("default", 3, 2)
    assert cleanup() == "Deleted 3 expired rate-limit states.\n"
    assert sorted(State.objects.values_list("id", flat=True)) == ["live:0", "live:1"]
    assert cleanup() == "Deleted 0 expired rate-limit states.\n"
    rows("default", 1, 0)
    assert cleanup() == "Deleted 1 expired rate-limit state.\n"
    assert cleanup("--verbosity", "0") == ""


@pytest.mark.postgres
@pytest.mark.django_db(databases=["default", "postgres"])
def test_database_option() -> None:
    rows("postgres", 2, 1)
    rows("default", 1, 0)
    assert cleanup("--database", "postgres") == "Deleted 2 expired rate-limit states.\n"
    assert State.objects.using("postgres").count() == 1
    assert State.objects.using("default").count() == 1


def test_an_unknown_database_is_a_command_error() -> None:
    with pytest.raises(CommandError, match="'nope'"):
        call_command("throttle_cleanup", "--database", "nope")
