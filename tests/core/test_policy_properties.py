"""Properties of the pure policies over random request times and sizes."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import START
from throttle_core import Rate
from throttle_core.policies import FixedWindow, SlidingWindow, TokenBucket

limits = st.integers(min_value=1, max_value=20)
intervals = st.sampled_from([1.0, 2.5, 10.0, 60.0])
steps = st.lists(
    st.tuples(st.floats(min_value=0, max_value=5, allow_nan=False), st.integers(0, 20)),
    min_size=1,
    max_size=80,
)


def run(policy: Any, requests: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """Feed (advance, tokens) requests to a policy; return (time, tokens) of the accepted."""
    state, now, accepted = None, START, []
    for advance, tokens in requests:
        now += advance
        tokens = min(tokens, policy.limit)
        new, result = policy.decide("k", state, now, tokens, 0.0)
        assert result.remaining >= 0
        assert result.retry_after >= 0
        assert result.accepted == (new is not None) or tokens == 0
        if new is not None:
            state = new
            accepted.append((now, tokens))
    return accepted


@settings(max_examples=300)
@given(limits, intervals, steps, st.sampled_from(["clock", "first_hit"]))
def test_fixed_window_never_admits_more_than_the_limit_per_window(
    limit: int, interval: float, requests: list[tuple[float, int]], align: str
) -> None:
    policy = FixedWindow(limit, interval, align)  # type: ignore[arg-type]
    accepted = run(policy, requests)
    if align == "clock":
        per_window: Counter[int] = Counter()
        for at, tokens in accepted:
            per_window[math.floor(at / interval)] += tokens
        assert all(count <= limit for count in per_window.values())
    for at, _ in accepted:
        in_span = sum(n for t, n in accepted if at <= t < at + interval)
        assert in_span <= 2 * limit


@settings(max_examples=300)
@given(limits, intervals, steps)
def test_sliding_window_never_admits_more_than_the_limit_in_an_aligned_window(
    limit: int, interval: float, requests: list[tuple[float, int]]
) -> None:
    accepted = run(SlidingWindow(limit, interval), requests)
    per_window: Counter[int] = Counter()
    for at, tokens in accepted:
        per_window[math.floor(at / interval)] += tokens
    assert all(count <= limit for count in per_window.values())


@settings(max_examples=300)
@given(limits, st.integers(1, 10), intervals, steps)
def test_token_bucket_admits_at_most_burst_plus_refill(
    burst: int, amount: int, interval: float, requests: list[tuple[float, int]]
) -> None:
    rate = Rate(interval, amount)
    accepted = run(TokenBucket(burst, rate), requests)
    for i, (begin, _) in enumerate(accepted):
        total = 0
        for end, tokens in accepted[i:]:
            total += tokens
            assert total <= burst + rate.tokens_per_second * (end - begin) + 1e-9


@settings(max_examples=200)
@given(limits, intervals, steps)
def test_a_refused_decision_changes_nothing(
    limit: int, interval: float, requests: list[tuple[float, int]]
) -> None:
    for policy in (FixedWindow(limit, interval), SlidingWindow(limit, interval),
                   TokenBucket(limit, Rate(interval, limit))):  # fmt: skip
        state, now = None, START
        for advance, tokens in requests:
            now += advance
            new, result = policy.decide("k", state, now, min(tokens, limit), 0.0)  # type: ignore[arg-type]
            if not result.accepted:
                assert new is None
                again = policy.decide("k", state, now, min(tokens, limit), 0.0)[1]  # type: ignore[arg-type]
                assert again == result
            elif new is not None:
                state = new
