"""Rate-limit response headers in each style: ietf, draft-7, draft-6, legacy."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

from throttle_core.errors import ConfigError
from throttle_core.result import RateLimit

STYLES = ("ietf", "draft-7", "draft-6", "legacy", "none")
DEFAULT_STYLES = ("ietf", "legacy")
_RATELIMIT_NAMED = ("ietf", "draft-7", "draft-6")
"""Styles that write the `RateLimit` or `RateLimit-Policy` fields, each in its own syntax."""

Header = tuple[str, str]


def header_styles(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """The styles to render, validated: one style or a list; "none" (or None) for none."""
    if value is None or isinstance(value, str):
        items: tuple[object, ...] = () if value is None else (value,)
    elif isinstance(value, list | tuple):
        items = tuple(value)
    else:
        raise ConfigError(f"headers must be a style or a list of styles, got {value!r}")
    for item in items:
        if item not in STYLES:
            raise ConfigError(f"headers style must be one of {', '.join(STYLES)}; got {item!r}")
    names = tuple(str(item) for item in items)
    if "none" in names:
        if len(set(names)) > 1:
            raise ConfigError(f"headers style 'none' cannot be combined with others: {value!r}")
        return ()
    clashing = sorted({s for s in names if s in _RATELIMIT_NAMED})
    if len(clashing) > 1:
        raise ConfigError(
            f"headers styles {clashing} both write RateLimit fields in different syntaxes; "
            "choose one of them (legacy combines with any)"
        )
    return tuple(dict.fromkeys(names))


def ceil_seconds(seconds: float) -> int:
    """Whole seconds, rounded up (forgiving float noise of a microsecond), never negative."""
    whole = math.ceil(seconds - 1e-6)
    return whole if whole > 0 else 0


def sf_string(text: str) -> str:
    """`text` as a Structured Field string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Quota:
    """A limit as headers describe it, prepared once per rule: its name, limit and window in
    whole seconds, and every constant part of its header values, so that a request only
    formats its own numbers."""

    __slots__ = (
        "draft6_constant",
        "item",
        "legacy_limit",
        "limit",
        "limit_text",
        "name",
        "policy_header",
        "policy_item",
        "short_policy",
        "state_prefix",
        "window",
    )

    def __init__(self, name: str, limit: int, window: float) -> None:
        self.name = name
        self.limit = limit
        self.window = max(1, ceil_seconds(window))
        self.item = sf_string(name)
        self.policy_item = f"{self.item};q={limit};w={self.window}"
        self.policy_header = ("RateLimit-Policy", self.policy_item)
        self.state_prefix = f"{self.item};r="
        self.limit_text = str(limit)
        self.short_policy = f"{limit};w={self.window}"
        self.legacy_limit = ("X-RateLimit-Limit", self.limit_text)
        self.draft6_constant = (
            ("RateLimit-Limit", self.limit_text),
            ("RateLimit-Policy", self.short_policy),
        )

    def __repr__(self) -> str:
        return f"Quota({self.name!r}, {self.limit}, {self.window})"


class LimitReport(NamedTuple):
    """One limit's part in a decision: the quota and its result (renderers take any
    `(quota, result)` pair, so the request path passes plain tuples)."""

    quota: Quota
    result: RateLimit


Report = tuple[Quota, RateLimit]


def reset(result: RateLimit) -> int:
    """The delta-seconds reset value of a limit (at least 1 for a limit that refused)."""
    if result.accepted:
        return ceil_seconds(result.reset_after)
    return max(1, ceil_seconds(result.retry_after))


def describing(reports: Sequence[Report]) -> Report:
    """The limit a single-value style speaks of: on a refusal the refusing limit with the
    longest retry, otherwise the one with the lowest remaining (the first on a tie)."""
    if len(reports) == 1:
        return reports[0]
    refused = [(quota, result) for quota, result in reports if not result.accepted]
    if refused:
        return max(refused, key=lambda report: report[1].retry_after)
    return min(reports, key=lambda report: report[1].remaining)


Numbers = tuple[int, int, int]
"""The numbers the headers of one limit carry: what remains, the reset value in delta
seconds and as epoch seconds."""


def numbers(result: RateLimit) -> Numbers:
    """The header numbers of one limit's `result`, each computed once for every style."""
    if result.accepted:
        seconds = result.reset_after
        whole = math.ceil(seconds - 1e-6)
        delta = whole if whole > 0 else 0
    else:
        seconds = result.retry_after
        whole = math.ceil(seconds - 1e-6)
        delta = whole if whole > 1 else 1
    at = math.ceil(result.now + seconds - 1e-6)
    return result.remaining, delta, at if at > 0 else 0


def _ietf(reports: Sequence[Report]) -> list[Header]:
    if len(reports) == 1:
        quota, result = reports[0]
        return list(_ietf_one(quota, *numbers(result)))
    policy = ", ".join([quota.policy_item for quota, _ in reports])
    state = ", ".join([f"{q.state_prefix}{r.remaining};t={reset(r)}" for q, r in reports])
    return [("RateLimit-Policy", policy), ("RateLimit", state)]


def _ietf_one(quota: Quota, remaining: int, reset: int, reset_at: int) -> tuple[Header, ...]:
    return quota.policy_header, ("RateLimit", f"{quota.state_prefix}{remaining};t={reset}")


def _draft7(quota: Quota, remaining: int, reset: int, reset_at: int) -> tuple[Header, ...]:
    return (
        ("RateLimit", f"limit={quota.limit}, remaining={remaining}, reset={reset}"),
        ("RateLimit-Policy", quota.short_policy),
    )


def _draft6(quota: Quota, remaining: int, reset: int, reset_at: int) -> tuple[Header, ...]:
    limit, policy = quota.draft6_constant
    return (limit, ("RateLimit-Remaining", str(remaining)), ("RateLimit-Reset", str(reset)), policy)


def _legacy(quota: Quota, remaining: int, reset: int, reset_at: int) -> tuple[Header, ...]:
    return (
        quota.legacy_limit,
        ("X-RateLimit-Remaining", str(remaining)),
        ("X-RateLimit-Reset", str(reset_at)),
    )


ONE: dict[str, Callable[[Quota, int, int, int], tuple[Header, ...]]] = {
    "ietf": _ietf_one,
    "draft-7": _draft7,
    "draft-6": _draft6,
    "legacy": _legacy,
}
"""Each style's header lines for one limit."""


def rate_limit_headers(styles: Sequence[str], reports: Sequence[Report]) -> list[Header]:
    """The header lines of `styles` (validated by `header_styles`) for these limits: the
    IETF style lists every limit, the single-value styles describe one (`describing`)."""
    lines: list[Header] = []
    if not reports:
        return lines
    for style in styles:
        if style == "ietf":
            lines += _ietf(reports)
        else:
            quota, result = describing(reports)
            lines += ONE[style](quota, *numbers(result))
    return lines


OneLimitHeaders = Callable[[Quota, RateLimit], tuple[Header, ...]]


def one_limit_headers(styles: Sequence[str]) -> OneLimitHeaders:
    """`rate_limit_headers` for a decision of one limit, made once for `styles`: the numbers
    are computed once and each style's function called straight, with no list to build."""
    renderers = tuple(ONE[style] for style in styles)

    def render(quota: Quota, result: RateLimit) -> tuple[Header, ...]:
        remaining, reset, reset_at = numbers(result)
        lines: tuple[Header, ...] = ()
        for style in renderers:
            lines += style(quota, remaining, reset, reset_at)
        return lines

    return render


def retry_after(result: RateLimit) -> int:
    """`Retry-After` of a refusal: its wait in whole seconds, rounded up, at least 1."""
    return max(1, ceil_seconds(result.retry_after))
