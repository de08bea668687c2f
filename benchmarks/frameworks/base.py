"""The interface of workload 6: a framework's hello-world app, limited by one library."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Literal

from benchmarks.adapters.base import Library

Protocol = Literal["asgi", "wsgi"]


class AppAdapter(Library, ABC):
    """One library's integration with one `framework`, driven over `protocol`."""

    framework: str
    protocol: Protocol

    @abstractmethod
    def app(self, limit: int, period: int, storage: str | None = None) -> Any:
        """The framework's hello-world app with every request limited to `limit` per
        `period` seconds per client address: a fixed window, headers on, in memory or in the
        Redis server at the URL `storage`."""
