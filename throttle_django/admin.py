"""A read-only admin of stored rate-limit states, with a "reset selected" action.

Registered unless `THROTTLE["ADMIN"]` is False.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import ngettext

from throttle_core.errors import ConfigError
from throttle_core.factory import build_policy
from throttle_core.policies import state_from_dict
from throttle_django import conf
from throttle_django.limits import limit_of_state
from throttle_django.models import State

NONE = "—"
"""What the admin shows for a figure it cannot know."""

if TYPE_CHECKING:
    ModelAdmin = admin.ModelAdmin[State]
else:
    ModelAdmin = admin.ModelAdmin  # generic for type checkers only


class StateAdmin(ModelAdmin):
    """States are written by decisions only: they can be looked at and reset, never edited."""

    list_display = ("id", "policy", "remaining_now", "expires_at")
    search_fields = ("id",)
    ordering = ("id",)
    actions = ("reset_selected",)
    readonly_fields = ("id", "data", "expires_at")

    @admin.display(description="policy")
    def policy(self, state: State) -> str:
        data = state.data
        kind = data.get("type") if isinstance(data, dict) else None
        return kind if isinstance(kind, str) else "(unreadable)"

    @admin.display(description="remaining now")
    def remaining_now(self, state: State) -> str:
        """What remains now of the configured limit whose id owns the state (a peek: nothing
        is changed); "—" when no configured limit has that id or the row is unreadable."""
        config = limit_of_state(state.id)
        policy = None if config is None else build_policy(config)
        if policy is None:
            return NONE
        now = time.time()
        stored: Any = None
        if state.expires_at is None or state.expires_at.timestamp() > now:
            try:
                stored = state_from_dict(state.data)
            except (ValueError, TypeError):
                return NONE
            if stored.type != policy.name:
                stored = None
        _, result = policy.decide(state.id, stored, now, 0, None)
        return f"{result.remaining} of {result.limit}"

    @admin.action(description="Reset selected rate-limit states", permissions=["delete"])
    def reset_selected(self, request: HttpRequest, queryset: QuerySet[State]) -> None:
        count, _ = queryset.delete()
        self.message_user(
            request,
            ngettext("Reset %d rate-limit state.", "Reset %d rate-limit states.", count) % count,
            messages.SUCCESS,
        )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: State | None = None) -> bool:
        return False


def register(site: admin.AdminSite) -> bool:
    """Register `StateAdmin` on `site` unless `THROTTLE["ADMIN"]` is False; whether it did."""
    try:
        wanted = conf.configuration().admin
    except ConfigError:
        wanted = True  # a bad setting is reported by the system checks, with its key
    if not wanted:
        return False
    site.register(State, StateAdmin)
    return True


register(admin.site)
