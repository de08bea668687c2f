"""The admin of stored states through the test client: read-only, searchable, "reset
selected", and registered unless THROTTLE["ADMIN"] is False."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from django.contrib.admin import AdminSite
from django.contrib.auth.models import User
from django.test import Client, override_settings

from throttle_core import RateLimiterFactory
from throttle_django.admin import register
from throttle_django.models import State
from throttle_django.storage import ModelStorage

CHANGELIST = "/admin/throttle_django/state/"


def decide(*keys: str) -> None:
    factory = RateLimiterFactory("5/minute", ModelStorage(), clock=None)
    for key in keys:
        factory.create(key).consume()


@pytest.fixture
def admin_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("admin", "a@example.com", "pw"))
    return client


def test_lists_states_with_policy_and_expiry_and_searches_by_id(admin_client: Client) -> None:
    decide("alice", "bob")
    State.objects.create(id="junk", data=["not", "a", "state"], expires_at=None)
    page = admin_client.get(CHANGELIST).content.decode()
    assert "5-per-minute:alice" in page
    assert "5-per-minute:bob" in page
    assert "sliding_window" in page
    assert "(unreadable)" in page
    found = admin_client.get(CHANGELIST, {"q": "alice"}).content.decode()
    assert "5-per-minute:alice" in found
    assert "5-per-minute:bob" not in found


def test_reset_selected_deletes_the_selected_states(admin_client: Client) -> None:
    decide("alice", "bob")
    response = admin_client.post(
        CHANGELIST,
        {"action": "reset_selected", "_selected_action": ["5-per-minute:alice"]},
        follow=True,
    )
    assert "Reset 1 rate-limit state." in response.content.decode()
    assert list(State.objects.values_list("id", flat=True)) == ["5-per-minute:bob"]


def test_states_cannot_be_added_or_edited(admin_client: Client) -> None:
    decide("alice")
    assert admin_client.get(CHANGELIST + "add/").status_code == 403
    detail = admin_client.get(CHANGELIST + "5-per-minute:alice/change/")
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    before = State.objects.get().data
    admin_client.post(CHANGELIST + "5-per-minute:alice/change/", {"data": "{}"})
    assert State.objects.get().data == before
    actions = admin_client.get(CHANGELIST).content.decode()
    assert "reset_selected" in actions
    assert "delete_selected" not in actions


def test_expiry_column_shows_the_expiry(admin_client: Client) -> None:
    expires = datetime(2031, 5, 6, 7, 8, tzinfo=timezone.utc)
    State.objects.create(id="x", data={"type": "token_bucket"}, expires_at=expires)
    page = admin_client.get(CHANGELIST).content.decode()
    assert "May 6, 2031, 7:08" in page


def test_registered_unless_disabled() -> None:
    assert register(AdminSite())
    with override_settings(THROTTLE={"ADMIN": False}):
        site = AdminSite()
        assert not register(site)
        assert not site.is_registered(State)
    with override_settings(THROTTLE={"ADMIN": True}):
        assert register(AdminSite())
