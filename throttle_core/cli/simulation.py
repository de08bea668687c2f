"""A policy deciding simulated traffic: the real limiters on an in-memory storage, driven by a
`FrozenClock` (no waiting, no I/O), and what their decisions add up to."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from throttle_core.cli.traffic import DEFAULT_KEY, Request
from throttle_core.clock import FrozenClock
from throttle_core.counters import describe_config
from throttle_core.errors import ConfigError
from throttle_core.factory import (
    CompoundRateLimiterFactory,
    RateLimiterFactory,
    build_policy,
    normalize_config,
)
from throttle_core.limits import parse_limits
from throttle_core.storage.memory import DEFAULT_MAX_KEYS, InMemoryStorage

SIMULATION_START = 0.0
"""The simulated clock starts at the epoch, where every clock-aligned window starts, so a
window of I seconds opens at 0, I, 2I… of the run."""
CAPACITY_SAMPLES = 400
"""Peeks at the busiest key's remaining capacity between requests, for the plot."""


@dataclass(frozen=True)
class Candidate:
    """One limit to simulate (several configs: one compound limit), and its name."""

    label: str
    configs: tuple[dict[str, Any], ...]

    def factory(
        self, storage: InMemoryStorage, clock: FrozenClock
    ) -> RateLimiterFactory | CompoundRateLimiterFactory:
        factories = [RateLimiterFactory(c, storage, clock=clock) for c in self.configs]
        return factories[0] if len(factories) == 1 else CompoundRateLimiterFactory(factories)

    def limit(self) -> int | None:
        """The smallest limit among the configs (None for no limit at all)."""
        limits = [c["limit"] for c in self.configs if "limit" in c]
        return min(limits) if limits else None


def candidates(limit: Any, policies: Sequence[str]) -> list[Candidate]:
    """The candidates of one LIMIT argument: a limit string once per policy in `policies`,
    a JSON config as it is, a JSON array as one compound limit. `ConfigError` if invalid."""
    if isinstance(limit, str):
        found = []
        for policy in policies:
            configs = tuple(
                normalize_config(c) for c in parse_limits(limit, id="sim", policy=policy)
            )
            found.append(Candidate(f"{limit}, {policy}", configs))
        return found
    items = limit if isinstance(limit, list) else [limit]
    if not items or not all(isinstance(item, dict) for item in items):
        raise ConfigError(f"a JSON limit must be a config object or an array of them: {limit!r}")
    configs = tuple(normalize_config({"id": f"sim-{i}", **item}) for i, item in enumerate(items, 1))
    if len({c["id"] for c in configs}) < len(configs):
        raise ConfigError("the configs of a compound limit need distinct ids")
    return [Candidate(" + ".join(describe_config(c) for c in configs), configs)]


@dataclass(frozen=True)
class Streak:
    """The longest run of consecutive refusals one key met."""

    requests: int
    start: float
    end: float
    key: str


@dataclass(frozen=True)
class Peak:
    """The most tokens admitted to one key in any window of a limit's length."""

    name: str
    window: float
    limit: int
    admitted: int
    start: float
    key: str


@dataclass(frozen=True)
class Summary:
    """What a run's decisions add up to."""

    requests: int
    accepted: int
    refused: int
    tokens_admitted: int
    keys: int
    first_refusal: float | None
    longest_refusal: Streak | None
    peaks: tuple[Peak, ...]
    never_admissible: int

    def to_dict(self) -> dict[str, Any]:
        streak = self.longest_refusal
        return {
            "requests": self.requests,
            "accepted": self.accepted,
            "refused": self.refused,
            "tokens_admitted": self.tokens_admitted,
            "keys": self.keys,
            "first_refusal": self.first_refusal,
            "longest_refusal_streak": None if streak is None else streak.__dict__,
            "most_admitted_in_a_window": [peak.__dict__ for peak in self.peaks],
            "never_admissible": self.never_admissible,
        }


@dataclass
class Run:
    """Every decision of one candidate over the traffic, and the busiest key's remaining
    capacity through the run (after each of its requests, and sampled between them)."""

    candidate: Candidate
    duration: float
    requests: list[Request]
    accepted: list[bool]
    capacity_key: str
    capacity: list[tuple[float, int]] = field(default_factory=list)
    never_admissible: int = 0

    def decisions(self) -> Iterator[tuple[Request, bool]]:
        """Each request with whether it was accepted."""
        return zip(self.requests, self.accepted, strict=True)

    def summary(self) -> Summary:
        accepted = sum(self.accepted)
        first = next((r.time for r, ok in self.decisions() if not ok), None)
        return Summary(
            len(self.requests), accepted, len(self.requests) - accepted,
            sum(r.cost for r, ok in self.decisions() if ok),
            len({r.key for r in self.requests}), first, self._longest_refusal(),
            self._peaks(), self.never_admissible,
        )  # fmt: skip

    def _longest_refusal(self) -> Streak | None:
        best: Streak | None = None
        open_streaks: dict[str, tuple[int, float, float]] = {}
        for request, ok in self.decisions():
            if ok:
                open_streaks.pop(request.key, None)
                continue
            count, start, _ = open_streaks.get(request.key, (0, request.time, request.time))
            open_streaks[request.key] = (count + 1, start, request.time)
            if best is None or count + 1 > best.requests:
                best = Streak(count + 1, start, request.time, request.key)
        return best

    def _peaks(self) -> tuple[Peak, ...]:
        admitted: dict[str, list[Request]] = {}
        for request, ok in self.decisions():
            if ok:
                admitted.setdefault(request.key, []).append(request)
        peaks = []
        for config in self.candidate.configs:
            policy = build_policy(config)
            if policy is None:
                continue
            window = policy.window_seconds()
            best = Peak(config["id"], window, policy.limit, 0, 0.0, DEFAULT_KEY)
            for key, requests in admitted.items():
                most, start = most_in_window(requests, window)
                if most > best.admitted:
                    best = Peak(config["id"], window, policy.limit, most, start, key)
            peaks.append(best)
        return tuple(peaks)


def most_in_window(requests: Sequence[Request], window: float) -> tuple[int, float]:
    """The most tokens among time-ordered `requests` in any half-open window [t, t + window),
    and the t where it starts (the maximum is always reached at some request's time)."""
    best, best_start, total, j = 0, 0.0, 0, 0
    for first in requests:
        end = first.time + window
        while j < len(requests) and requests[j].time < end:
            total += requests[j].cost
            j += 1
        if total > best:
            best, best_start = total, first.time
        total -= first.cost
    return best, best_start


def simulate(
    candidate: Candidate,
    requests: Sequence[Request],
    duration: float,
    samples: int = CAPACITY_SAMPLES,
) -> Run:
    """Decide every request (in time order) with the candidate's limiters, one per key."""
    clock = FrozenClock(SIMULATION_START)
    keys = Counter(request.key for request in requests)
    storage = InMemoryStorage(max(DEFAULT_MAX_KEYS, len(keys) + 1), clock=clock)
    factory = candidate.factory(storage, clock)
    limiters = {key: factory.create(key) for key in keys}
    tracked = max(keys, key=keys.__getitem__) if keys else DEFAULT_KEY
    watch = limiters.get(tracked) or factory.create(tracked)
    run = Run(candidate, duration, list(requests), [], tracked)
    track = candidate.limit() is not None
    step, sample = duration / samples, 0

    def peek_until(t: float) -> None:
        nonlocal sample
        while sample <= samples and sample * step < t:
            clock.set(SIMULATION_START + sample * step)
            run.capacity.append((sample * step, watch.consume(0).remaining))
            sample += 1

    for request in requests:
        if track:
            peek_until(request.time)
        clock.set(SIMULATION_START + request.time)
        try:
            result = limiters[request.key].consume(request.cost)
        except ValueError:
            run.never_admissible += 1
            run.accepted.append(False)
            continue
        run.accepted.append(result.accepted)
        if track and request.key == tracked:
            run.capacity.append((request.time, result.remaining))
    if track:
        peek_until(duration + step)
    return run
