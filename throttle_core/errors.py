"""Exceptions raised by throttle_core; all derive from ThrottleError."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from throttle_core.result import RateLimit


class ThrottleError(Exception):
    """Base class of every error this suite raises on purpose."""


class ConfigError(ThrottleError, ValueError):
    """A limiter, storage or integration was configured with a value it cannot use."""


class InvalidStateError(ThrottleError, ValueError):
    """A stored limiter state could not be decoded; storages treat it as absent."""


class RateLimitExceeded(ThrottleError):
    """Raised by `RateLimit.ensure_accepted()` for a refused decision."""

    def __init__(self, rate_limit: RateLimit) -> None:
        self.rate_limit = rate_limit
        super().__init__(f"rate limit exceeded; retry after {rate_limit.retry_after:.3f}s")


class MaxWaitDurationExceeded(ThrottleError):
    """A reservation would have to wait longer than the `max_wait` it was given."""

    def __init__(self, wait: float, max_wait: float, rate_limit: RateLimit) -> None:
        self.wait = wait
        self.max_wait = max_wait
        self.rate_limit = rate_limit
        super().__init__(f"the wait of {wait:.3f}s exceeds max_wait={max_wait:.3f}s")


class ReserveNotSupported(ThrottleError):
    """This limiter cannot book capacity ahead (sliding window, compound limiters)."""


class LockError(ThrottleError):
    """A lock could not be acquired in time, or was released by someone who did not hold it."""


INSTALL_HINT = "install it with: "
"""The words before the command of every missing-extra message: a message holding them
already says what to install."""


def not_installed(module: str, extra: str) -> str:
    """The message for `module` missing: how to install the extra that brings it from a
    checkout, the one place the suite installs from until it is on a package index."""
    return (
        f"{module} is not installed; {INSTALL_HINT}"
        f"pip install -e '.[{extra}]' (in a checkout of throttle-suite)"
    )


def missing_extra(extra: str, error: ImportError) -> ModuleNotFoundError:
    """The error for an optional dependency that is not installed, saying which extra of the
    distribution brings it (raise it `from` the original `error`)."""
    return ModuleNotFoundError(
        not_installed(error.name or "an optional dependency", extra), name=error.name
    )
