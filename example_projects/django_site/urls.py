"""URLs of the example site."""

from __future__ import annotations

from django.urls import path

from example_projects.django_site import views

urlpatterns = [
    path("", views.index),
    path("login", views.login),
    path("api/items", views.items),
    path("health", views.health),
]
