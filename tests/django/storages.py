"""Storages named by dotted paths in the storage-setting tests."""

from __future__ import annotations

from throttle_core import InMemoryStorage

SHARED = InMemoryStorage()


def make_storage() -> InMemoryStorage:
    return SHARED


class NotAStorage:
    pass


NOT_A_STORAGE = NotAStorage()
