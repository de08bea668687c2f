"""URLs of the middleware and decorator tests."""

from __future__ import annotations

from django.urls import path

from tests.django import views

urlpatterns = [
    path("", views.hello),
    path("login/", views.hello),
    path("search/", views.search),
    path("other-search/", views.other_search),
    path("async-search/", views.async_search),
    path("shared-one/", views.shared_one),
    path("shared-two/", views.shared_two),
    path("stacked/", views.stacked),
    path("soft/", views.soft),
    path("typed/", views.typed),
    path("posts/", views.posts_only),
    path("plan/", views.by_plan),
    path("per-user/", views.per_user),
    path("weighted/", views.weighted),
    path("health/", views.health),
    path("exempt-own/", views.exempt_with_own),
    path("items/", views.Items.as_view()),
    path("more-items/", views.MoreItems.as_view()),
    path("dispatched/", views.Dispatched.as_view()),
    path("async-items/", views.AsyncItems.as_view()),
    path("profile/", views.profile),
]
