"""Rate-limit response headers in each style of DESIGN.md §5: ietf, draft-7, draft-6, legacy."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from throttle_core.errors import ConfigError
from throttle_core.result import RateLimit

STYLES = ("ietf", "draft-7", "draft-6", "legacy", "none")
DEFAULT_STYLES = ("ietf", "legacy")
_RATELIMIT_NAMED = ("ietf", "draft-7", "draft-6")
"""Styles that write the `RateLimit` or `RateLimit-Policy` fields, each in its own syntax."""

Header = tuple[str, str]


def header_styles(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """The styles to render, validated: one style or a list; "none" (or None) for none."""
    items = () if value is None else (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if item not in STYLES:
            raise ConfigError(f"headers style must be one of {', '.join(STYLES)}; got {item!r}")
    if "none" in items:
        if len(set(items)) > 1:
            raise ConfigError(f"headers style 'none' cannot be combined with others: {value!r}")
        return ()
    clashing = sorted({s for s in items if s in _RATELIMIT_NAMED})
    if len(clashing) > 1:
        raise ConfigError(
            f"headers styles {clashing} both write RateLimit fields in different syntaxes; "
            "choose one of them (legacy combines with any)"
        )
    return tuple(dict.fromkeys(items))


def ceil_seconds(seconds: float) -> int:
    """Whole seconds, rounded up (forgiving float noise of a microsecond), never negative."""
    return max(0, math.ceil(seconds - 1e-6))


@dataclass(frozen=True, slots=True)
class LimitReport:
    """One limit's part in a decision: its name, its window in seconds, and its result."""

    name: str
    window: float
    result: RateLimit

    @property
    def wait(self) -> float:
        """Seconds the reset value speaks of: the retry for a refusing limit, else the reset."""
        result = self.result
        return result.reset_after if result.accepted else result.retry_after

    @property
    def reset(self) -> int:
        """The delta-seconds reset value (at least 1 for a limit that refused)."""
        seconds = ceil_seconds(self.wait)
        return seconds if self.result.accepted else max(1, seconds)

    @property
    def window_seconds(self) -> int:
        return max(1, ceil_seconds(self.window))


def describing(reports: Sequence[LimitReport]) -> LimitReport:
    """The limit a single-value style speaks of: on a refusal the refusing limit with the
    longest retry, otherwise the one with the lowest remaining (the first on a tie)."""
    refused = [report for report in reports if not report.result.accepted]
    if refused:
        return max(refused, key=lambda report: report.result.retry_after)
    return min(reports, key=lambda report: report.result.remaining)


def sf_string(text: str) -> str:
    """`text` as a Structured Field string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ietf(reports: Sequence[LimitReport]) -> list[Header]:
    policy = ", ".join(
        f"{sf_string(r.name)};q={r.result.limit};w={r.window_seconds}" for r in reports
    )
    state = ", ".join(f"{sf_string(r.name)};r={r.result.remaining};t={r.reset}" for r in reports)
    return [("RateLimit-Policy", policy), ("RateLimit", state)]


def _draft7(reports: Sequence[LimitReport]) -> list[Header]:
    lead = describing(reports)
    limit, remaining = lead.result.limit, lead.result.remaining
    return [
        ("RateLimit", f"limit={limit}, remaining={remaining}, reset={lead.reset}"),
        ("RateLimit-Policy", f"{limit};w={lead.window_seconds}"),
    ]


def _draft6(reports: Sequence[LimitReport]) -> list[Header]:
    lead = describing(reports)
    return [
        ("RateLimit-Limit", str(lead.result.limit)),
        ("RateLimit-Remaining", str(lead.result.remaining)),
        ("RateLimit-Reset", str(lead.reset)),
        ("RateLimit-Policy", f"{lead.result.limit};w={lead.window_seconds}"),
    ]


def _legacy(reports: Sequence[LimitReport]) -> list[Header]:
    lead = describing(reports)
    return [
        ("X-RateLimit-Limit", str(lead.result.limit)),
        ("X-RateLimit-Remaining", str(lead.result.remaining)),
        ("X-RateLimit-Reset", str(ceil_seconds(lead.result.now + lead.wait))),
    ]


RENDERERS: dict[str, Callable[[Sequence[LimitReport]], list[Header]]] = {
    "ietf": _ietf,
    "draft-7": _draft7,
    "draft-6": _draft6,
    "legacy": _legacy,
}


def rate_limit_headers(styles: Sequence[str], reports: Sequence[LimitReport]) -> list[Header]:
    """The header lines of `styles` (validated by `header_styles`) for these limits."""
    if not reports:
        return []
    return [line for style in styles for line in RENDERERS[style](reports)]


def retry_after(result: RateLimit) -> int:
    """`Retry-After` of a refusal: its wait in whole seconds, rounded up, at least 1."""
    return max(1, ceil_seconds(result.retry_after))
