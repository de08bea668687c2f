"""A read-only admin of stored rate-limit states, with a "reset selected" action.

Registered unless `THROTTLE["ADMIN"]` is False.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import ngettext

from throttle_django.models import State

if TYPE_CHECKING:
    ModelAdmin = admin.ModelAdmin[State]
else:
    ModelAdmin = admin.ModelAdmin  # generic for type checkers only


class StateAdmin(ModelAdmin):
    """States are written by decisions only: they can be looked at and reset, never edited."""

    list_display = ("id", "policy", "expires_at")
    search_fields = ("id",)
    ordering = ("id",)
    actions = ("reset_selected",)
    readonly_fields = ("id", "data", "expires_at")

    @admin.display(description="policy")
    def policy(self, state: State) -> str:
        data = state.data
        kind = data.get("type") if isinstance(data, dict) else None
        return kind if isinstance(kind, str) else "(unreadable)"

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
    options = getattr(settings, "THROTTLE", None)
    if isinstance(options, dict) and options.get("ADMIN", True) is False:
        return False
    site.register(State, StateAdmin)
    return True


register(admin.site)
