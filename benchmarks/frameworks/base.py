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
    def app(
        self, limit: int, period: int, storage: str | None = None, namespace: str = "bench"
    ) -> Any:
        """The framework's hello-world app with every request limited to `limit` per
        `period` seconds per client address: a fixed window, headers on, in memory or in the
        Redis server at the URL `storage`, every key there starting with `namespace`."""


class OurAdapter(AppAdapter, ABC):
    """Our integration with one framework: its defaults (IETF and legacy headers) and one
    fixed window keyed by the client address, as the peers' default strategy is, in memory or
    in the Redis server at `storage`. It fails closed (`fail_open=False`): a storage error
    answers 503, which the call loops refuse to time, as the peers' defaults raise or refuse,
    so a limiter that cannot reach its storage never looks fast."""

    library = "throttle-suite"

    def app(
        self, limit: int, period: int, storage: str | None = None, namespace: str = "bench"
    ) -> Any:
        from throttle_core import InMemoryStorage, storage_from_url

        config = {"policy": "fixed_window", "id": "hello", "limit": limit, "interval": period}
        if storage is None:
            return self.limited(config, InMemoryStorage())
        prefix = f"{namespace}:ours:{self.framework}:"
        return self.limited(config, storage_from_url(storage, prefix=prefix))

    @abstractmethod
    def limited(self, config: dict[str, Any], storage: object) -> Any:
        """The hello-world app limited by `config` on `storage`, failing closed."""
