"""throttle_core: rate-limiting policies, limiters, storages and locks, framework-free."""

from __future__ import annotations

from throttle_core.clock import Clock, FrozenClock, SystemClock
from throttle_core.compound import CompoundLimiter
from throttle_core.duration import Rate
from throttle_core.errors import (
    ConfigError,
    InvalidStateError,
    LockError,
    MaxWaitDurationExceeded,
    RateLimitExceeded,
    ReserveNotSupported,
    ThrottleError,
)
from throttle_core.factory import CompoundRateLimiterFactory, RateLimiterFactory
from throttle_core.limiter import Limiter, NoLimiter
from throttle_core.limits import parse_limits
from throttle_core.locks.local import LocalLock
from throttle_core.policies import state_from_dict
from throttle_core.result import RateLimit, Reservation
from throttle_core.storage.memory import InMemoryStorage
from throttle_core.storage.url import storage_from_url

__version__ = "0.1.0"

__all__ = [
    "Clock",
    "CompoundLimiter",
    "CompoundRateLimiterFactory",
    "ConfigError",
    "FrozenClock",
    "InMemoryStorage",
    "InvalidStateError",
    "Limiter",
    "LocalLock",
    "LockError",
    "MaxWaitDurationExceeded",
    "NoLimiter",
    "Rate",
    "RateLimit",
    "RateLimitExceeded",
    "RateLimiterFactory",
    "Reservation",
    "ReserveNotSupported",
    "SystemClock",
    "ThrottleError",
    "__version__",
    "parse_limits",
    "state_from_dict",
    "storage_from_url",
]
