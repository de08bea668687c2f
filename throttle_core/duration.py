"""Durations and rates: the interval grammar, `Rate`, and reading one "100/minute" limit."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from throttle_core.errors import ConfigError
from throttle_core.messages import short
from throttle_core.suggest import unknown_fields

UNITS: dict[str, float] = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
    "month": 2592000, "months": 2592000,
    "y": 31536000, "year": 31536000, "years": 31536000,
}  # fmt: skip

MIN_INTERVAL = 0.001
"""The shortest interval, a millisecond: shorter ones are below what clocks and servers resolve."""
MAX_INTERVAL = 100 * 31536000
"""The longest interval, 100 years: longer ones overflow the expiry times storages keep."""
MAX_COUNT = 2**53
"""The largest limit or refill amount: every count up to it is exact as a float, and so in
every storage (Lua and JSON readers hold numbers as doubles)."""

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)?\s*([a-zA-Z]+)\s*$")
_LIMIT = re.compile(r"^\s*([-+]?\d+)\s*(?:/|\s+per\s+)\s*(.+?)\s*$", re.IGNORECASE)


def parse_interval(value: object, field: str = "interval") -> float:
    """Seconds in `value`: a number, a `timedelta`, or text like "1 minute", "15m", "2 hours",
    from a millisecond to 100 years."""
    if isinstance(value, bool):
        raise ConfigError(f"{field} must be a duration, not the boolean {value!r}")
    if isinstance(value, int | float):
        seconds = value if isinstance(value, float) else _as_float(value)
    elif isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, str):
        match = _INTERVAL.match(value)
        unit = match.group(2).lower() if match else ""
        if not match or unit not in UNITS:
            raise ConfigError(
                f"{field} {value!r} is not a duration; write e.g. '1 second', '15 minutes', "
                f"'1h' (units: {', '.join(sorted(set(UNITS)))})"
            )
        seconds = float(match.group(1) or 1) * UNITS[unit]
    else:
        raise ConfigError(f"{field} must be a number, timedelta or text, not {value!r}")
    if not seconds > 0:
        raise ConfigError(f"{field} must be a positive duration, got {short(value)}")
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise ConfigError(f"{field} must be from 1 millisecond to 100 years, got {short(value)}")
    return seconds


def parse_count(value: object, field: str) -> int:
    """An integer from 1 to `MAX_COUNT` from config (`bool` and fractions are refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ConfigError(f"{field} must be a positive integer, got {short(value)}")
    if value < 1:
        raise ConfigError(f"{field} must be at least 1, got {short(value)}")
    if value > MAX_COUNT:
        raise ConfigError(f"{field} must be at most 2**53 ({MAX_COUNT}), got {short(value)}")
    return value


def _as_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def describe_interval(seconds: float) -> str:
    """Short human name for an interval: 60 -> "minute", 900 -> "15-minutes"."""
    for name, size in (("year", 31536000), ("month", 2592000), ("week", 604800),
                       ("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):  # fmt: skip
        count = seconds / size
        if count >= 1 and count == int(count):
            return name if count == 1 else f"{int(count)}-{name}s"
    return f"{seconds:g}-seconds"


def describe_period(interval: float) -> str:
    """An interval as a limit's period for people: 60 -> "minute", 900 -> "15 minutes"."""
    return describe_interval(interval).replace("-", " ")


def describe_seconds(value: float) -> str:
    """A duration for people: "0.25 s", "42 s", "3 min 20 s", "2 h 5 min"."""
    if value < 60:
        return f"{value:.3g} s" if value < 10 else f"{value:.0f} s"
    minutes, secs = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


@dataclass(frozen=True, slots=True)
class Rate:
    """`amount` tokens every `interval` seconds: the refill speed of a token bucket."""

    interval: float
    amount: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "interval", parse_interval(self.interval, "rate.interval"))
        object.__setattr__(self, "amount", parse_count(self.amount, "rate.amount"))

    @property
    def tokens_per_second(self) -> float:
        """Tokens added per second (`amount / interval`, the one formula every backend uses)."""
        return self.amount / self.interval

    @classmethod
    def per_second(cls, amount: int = 1) -> Rate:
        return cls(1, amount)

    @classmethod
    def per_minute(cls, amount: int = 1) -> Rate:
        return cls(60, amount)

    @classmethod
    def per_hour(cls, amount: int = 1) -> Rate:
        return cls(3600, amount)

    @classmethod
    def per_day(cls, amount: int = 1) -> Rate:
        return cls(86400, amount)

    @classmethod
    def from_string(cls, text: str) -> Rate:
        """`Rate.from_string("100/minute")` == `Rate(60, 100)`."""
        amount, interval = parse_one_limit(text, "rate")
        return cls(interval, amount)

    @classmethod
    def coerce(cls, value: object, field: str = "rate") -> Rate:
        """A `Rate` from a `Rate`, a limit string, or a `{"interval", "amount"}` mapping."""
        if isinstance(value, Rate):
            return value
        if isinstance(value, str):
            amount, interval = parse_one_limit(value, field)
            return cls(interval, amount)
        if isinstance(value, Mapping):
            unknown = set(value) - {"interval", "amount"}
            if unknown:
                raise unknown_fields(field, unknown, ("interval", "amount"))
            for name in ("interval", "amount"):
                if name not in value:
                    raise ConfigError(f"{field}.{name} is missing in {value!r:.100}")
            return cls(
                parse_interval(value["interval"], f"{field}.interval"),
                parse_count(value["amount"], f"{field}.amount"),
            )
        raise ConfigError(f"{field} must be a dict, Rate or limit string, got {short(value)}")

    def to_dict(self) -> dict[str, Any]:
        return {"interval": self.interval, "amount": self.amount}


def parse_one_limit(text: str, field: str = "limit") -> tuple[int, float]:
    """The amount and the interval in seconds of one limit string such as "100/minute"."""
    match = _LIMIT.match(text) if isinstance(text, str) else None
    if not match:
        raise ConfigError(
            f"{field} {text!r:.100} is not a limit string; write e.g. '100/minute', "
            "'100 per minute', '5/15 minutes', '10/5s'"
        )
    amount = parse_count(int(match.group(1)), f"{field} {text.strip()!r}")
    return amount, parse_interval(match.group(2), f"period of {field} {text.strip()!r}")
