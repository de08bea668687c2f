"""What the server-side differential tests share: random plans of consumes, bookings and
refunds, and a replay that runs a plan on a storage and on the pure Python policy at once."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tests.conftest import START
from throttle_core import Rate, ReserveNotSupported
from throttle_core.policies import FixedWindow, LimiterPolicy, SlidingWindow, TokenBucket
from throttle_core.policies.gcra import GCRA

INTERVALS = [0.7, 1.0, 2.5, 60.0, 3600.0 / 7]
KINDS = ["token_bucket", "fixed_window:clock", "fixed_window:first_hit", "sliding_window", "gcra"]
POLICIES: list[LimiterPolicy] = [
    TokenBucket(5, Rate(1.0, 1)),
    FixedWindow(5, 1.0, "clock"),
    FixedWindow(5, 1.0, "first_hit"),
    SlidingWindow(5, 1.0),
    GCRA(5, Rate(1.0, 1)),
]
ids = (f"diff:{n}" for n in itertools.count())


def policy_id(policy: LimiterPolicy) -> str:
    return f"{policy.name}:{getattr(policy, 'align', '')}"


@dataclass(frozen=True)
class Step:
    """Move the clock by `advance` (or, with `land`, exactly onto an edge: "end" of the
    current window or bucket refill, "infimum" of the times this step's tokens are admitted),
    then consume (max_wait None: reserve without bound) or give back `tokens` booked at
    now + `at`; `resave` first rewrites the key from Python."""

    advance: float
    refund: bool
    tokens: int
    max_wait: float | None
    at: float
    resave: bool
    land: str | None = None


def landing(policy: LimiterPolicy, state: Any, now: float, tokens: int, step: Step) -> float:
    """The time `step` moves the clock to from `now`."""
    if step.land is None:
        return now + step.advance
    if isinstance(policy, TokenBucket | GCRA):
        if step.land == "end":
            return now + policy.decide("", state, now, 0, None)[1].reset_after
        return now + policy.decide("", state, now, max(tokens, 1), 0.0)[1].retry_after
    if isinstance(policy, FixedWindow):
        start, hits = policy.windows(state, now)
        if step.land == "end":
            return start + policy.interval
        k = 0
        while k < len(hits) and hits[k] + max(tokens, 1) > policy.limit:
            k += 1
        return start + k * policy.interval
    assert isinstance(policy, SlidingWindow)
    start, previous, current = policy.windows(state, now)
    if step.land == "end":
        return start + policy.interval
    need = max(tokens, 1)
    if policy.estimate(start, previous, current, now) + need <= policy.limit:
        return now
    at = policy.admitted_after(start, previous, current, need)
    return at if at > now else now


def steps(interval: float, limit: int) -> st.SearchStrategy[list[Step]]:
    advance = st.one_of(
        st.floats(0, 2.5 * interval, allow_nan=False),
        st.sampled_from([0.0, 1e-6, interval / 2, interval]),
    )
    step = st.builds(
        Step,
        advance,
        st.booleans(),
        st.integers(0, limit),
        st.one_of(st.none(), st.just(0.0), st.floats(0, 3 * interval, allow_nan=False)),
        st.floats(-2 * interval, 2 * interval, allow_nan=False),
        st.booleans(),
        st.sampled_from([None, None, None, "end", "infimum", "infimum"]),
    )
    return st.lists(step, min_size=1, max_size=40)


@st.composite
def scenarios(draw: st.DrawFn, kind: str) -> tuple[LimiterPolicy, float, list[Step]]:
    limit = draw(st.integers(1, 12))
    interval = draw(st.sampled_from(INTERVALS))
    policy: LimiterPolicy
    if kind == "token_bucket":
        policy = TokenBucket(limit, Rate(interval, draw(st.integers(1, 5))))
    elif kind == "gcra":
        policy = GCRA(limit, Rate(interval, draw(st.integers(1, 5))))
    elif kind == "sliding_window":
        policy = SlidingWindow(limit, interval)
    else:
        policy = FixedWindow(limit, interval, kind.removeprefix("fixed_window:"))  # type: ignore[arg-type]
    start = START + draw(st.floats(0, 10 * interval, allow_nan=False))
    return policy, start, draw(steps(interval, limit))


def outcome(decide: Callable[..., Any], *args: Any) -> Any:
    """A decision, or the type of the error it raised."""
    try:
        return decide(*args)
    except ReserveNotSupported as error:
        return type(error)


def replay(
    storage: Any,
    policy: LimiterPolicy,
    now: float,
    plan: list[Step],
    id: str,
    check_expiry: Callable[[str, Any, bool], None],
) -> None:
    """Run `plan` on `storage` and on `policy`: identical decisions and stored states at every
    step; `check_expiry(id, state, written)` then checks the storage's own expiry."""
    state: Any = None
    for step in plan:
        tokens = min(step.tokens, policy.limit)
        now = landing(policy, state, now, tokens, step)
        if step.resave and state is not None:
            storage.save(state)
        if step.refund:
            at = now + step.at
            storage.refund(policy, id, tokens, at, now)
            new = policy.refund(state, now, tokens, at)
        else:
            decided = outcome(policy.decide, id, state, now, tokens, step.max_wait)
            result = outcome(storage.consume, policy, id, tokens, step.max_wait, now)
            new, expected = decided if isinstance(decided, tuple) else (None, decided)
            assert result == expected, step
            if isinstance(policy, SlidingWindow) and tokens:
                estimate = policy.estimate(*policy.windows(state, now), now)
                assert expected.accepted == (estimate + tokens <= policy.limit), step
        if new is not None:
            state = new
        assert storage.fetch(id) == state, step
        if state is not None:
            check_expiry(id, state, new is not None)
