"""Rate-limit headers: the exact lines of each style, for one limit and for two."""

from __future__ import annotations

import pytest

from tests.conftest import START
from throttle_core import ConfigError, RateLimit
from throttle_core.http import LimitReport, Quota, header_styles, rate_limit_headers
from throttle_core.http.headers import retry_after, sf_string

API_QUOTA, BURST, HOURLY = Quota("api", 100, 60), Quota("burst", 10, 1), Quota("hourly", 1000, 3600)
API = LimitReport(API_QUOTA, RateLimit(True, 100, 42, 0.0, 17.2, START))
BURST_OK = LimitReport(BURST, RateLimit(True, 10, 3, 0.0, 0.4, START))
HOURLY_OK = LimitReport(HOURLY, RateLimit(True, 1000, 900, 0.0, 3000.5, START))
BURST_NO = LimitReport(BURST, RateLimit(False, 10, 0, 0.3, 1.0, START))
HOURLY_NO = LimitReport(HOURLY, RateLimit(False, 1000, 0, 1800.2, 3500.0, START))
RESET = int(START)


@pytest.mark.parametrize(
    ("style", "reports", "lines"),
    [
        ("ietf", [API], [
            ("RateLimit-Policy", '"api";q=100;w=60'),
            ("RateLimit", '"api";r=42;t=18'),
        ]),
        ("draft-7", [API], [
            ("RateLimit", "limit=100, remaining=42, reset=18"),
            ("RateLimit-Policy", "100;w=60"),
        ]),
        ("draft-6", [API], [
            ("RateLimit-Limit", "100"),
            ("RateLimit-Remaining", "42"),
            ("RateLimit-Reset", "18"),
            ("RateLimit-Policy", "100;w=60"),
        ]),
        ("legacy", [API], [
            ("X-RateLimit-Limit", "100"),
            ("X-RateLimit-Remaining", "42"),
            ("X-RateLimit-Reset", str(RESET + 18)),
        ]),
        # Two limits, both accepting: ietf lists both; single-value styles speak of the
        # lowest remaining.
        ("ietf", [BURST_OK, HOURLY_OK], [
            ("RateLimit-Policy", '"burst";q=10;w=1, "hourly";q=1000;w=3600'),
            ("RateLimit", '"burst";r=3;t=1, "hourly";r=900;t=3001'),
        ]),
        ("draft-7", [BURST_OK, HOURLY_OK], [
            ("RateLimit", "limit=10, remaining=3, reset=1"),
            ("RateLimit-Policy", "10;w=1"),
        ]),
        ("draft-6", [HOURLY_OK, BURST_OK], [
            ("RateLimit-Limit", "10"),
            ("RateLimit-Remaining", "3"),
            ("RateLimit-Reset", "1"),
            ("RateLimit-Policy", "10;w=1"),
        ]),
        ("legacy", [BURST_OK, HOURLY_OK], [
            ("X-RateLimit-Limit", "10"),
            ("X-RateLimit-Remaining", "3"),
            ("X-RateLimit-Reset", str(RESET + 1)),
        ]),
        # Two limits refusing: a refusing limit's reset is its retry; single-value styles
        # speak of the refusing limit with the longest retry.
        ("ietf", [BURST_NO, HOURLY_NO], [
            ("RateLimit-Policy", '"burst";q=10;w=1, "hourly";q=1000;w=3600'),
            ("RateLimit", '"burst";r=0;t=1, "hourly";r=0;t=1801'),
        ]),
        ("draft-7", [BURST_NO, HOURLY_NO], [
            ("RateLimit", "limit=1000, remaining=0, reset=1801"),
            ("RateLimit-Policy", "1000;w=3600"),
        ]),
        ("legacy", [BURST_NO, HOURLY_OK], [
            ("X-RateLimit-Limit", "10"),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", str(RESET + 1)),
        ]),
        ("none", [API], []),
    ],
)  # fmt: skip
def test_exact_lines(style: str, reports: list[LimitReport], lines: list[tuple[str, str]]) -> None:
    assert rate_limit_headers(header_styles(style), reports) == lines


def test_default_styles_are_ietf_then_legacy() -> None:
    assert header_styles(("ietf", "legacy")) == ("ietf", "legacy")
    assert [name for name, _ in rate_limit_headers(header_styles(["ietf", "legacy"]), [API])] == [
        "RateLimit-Policy",
        "RateLimit",
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
    ]


def test_no_limits_no_lines() -> None:
    assert rate_limit_headers(header_styles("ietf"), []) == []


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0.2, 1), (1.0, 1), (12.5, 13), (12.0000001, 12), (59.99, 60), (0.0, 1)],
)
def test_retry_after_rounds_up_and_is_at_least_one(seconds: float, expected: int) -> None:
    assert retry_after(RateLimit(False, 5, 0, seconds, 60.0, START)) == expected


def test_a_refusing_limit_never_says_reset_zero() -> None:
    refused = LimitReport(API_QUOTA, RateLimit(False, 100, 0, 0.0000001, 0.0, START))
    assert rate_limit_headers(("ietf",), [refused])[1] == ("RateLimit", '"api";r=0;t=1')


def test_names_are_structured_field_strings_and_windows_whole_seconds() -> None:
    assert sf_string('a"b\\c') == '"a\\"b\\\\c"'
    quota = Quota('say "hi"', 10, 0.4)
    assert quota.policy_item == '"say \\"hi\\"";q=10;w=1'
    assert Quota("bucket", 10, 86.4).window == 87


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("legacy", ("legacy",)),
        (["legacy", "draft-6", "legacy"], ("legacy", "draft-6")),
        ("none", ()),
        (["none"], ()),
        (None, ()),
        ([], ()),
    ],
)
def test_styles(value: str | list[str] | None, expected: tuple[str, ...]) -> None:
    assert header_styles(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ietf-10", "headers style must be one of ietf, draft-7, draft-6, legacy, none; got"),
        (["ietf", "draft-7"], r"styles \['draft-7', 'ietf'\] both write RateLimit fields"),
        (["draft-6", "draft-7"], r"styles \['draft-6', 'draft-7'\] both write RateLimit"),
        (["none", "legacy"], "'none' cannot be combined"),
    ],
)
def test_bad_styles_are_refused(value: str | list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        header_styles(value)


def test_constant_parts_are_prepared_once_per_quota_and_pairs_render_alike() -> None:
    assert (API_QUOTA.state_prefix, API_QUOTA.limit_text, API_QUOTA.short_policy) == (
        '"api";r=',
        "100",
        "100;w=60",
    )
    styles = header_styles(["ietf", "legacy"])
    pairs = [(report.quota, report.result) for report in (BURST_OK, HOURLY_OK)]
    assert rate_limit_headers(styles, pairs) == rate_limit_headers(styles, [BURST_OK, HOURLY_OK])
