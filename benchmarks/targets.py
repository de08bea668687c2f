"""Our performance goals, one entry each, and how a run is judged against them.

A `Goal` says what it promises and how to read a run for it: its `check` returns the figure
and whether it is met, or None when the run has no rows for it. A goal whose workload does
not exist yet has no check, and the report says "not measured"; the workload that comes to
measure it gives its entry a check here, and nothing else, usually one of the helpers below
over a `Run` look-up: `at_least(goal, 3, lambda run, p: run.vs_best("redis_tasks", p, RATE))`
against the best peer, `run.vs_workload("redis_tasks", "redis", p)` against our own figure in
another workload, `run.vs_floor(...)` against a raw server loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchmarks.adapters import OURS, POLICIES

if TYPE_CHECKING:
    from benchmarks.report import Run

OUR = OURS.library
RATE = "decisions_per_s"
MEMORY_VS_PEER = 1.2
BYTES_PER_KEY = 220
REDIS_VS_PEER = 1.1
REDIS_VS_EVALSHA = 0.9
POSTGRES_STATEMENTS = 2
POSTGRES_VS_UPSERT = 0.6
MODEL_VS_POSTGRES = 0.8
ADDED_US = {"asgi": 8.0, "django": 15.0, "wsgi": 25.0}
"""The most µs each framework workload's integration of ours may add per request."""
LOWER_THAN_PEER = 3.0
"""How many times less than its framework's peer each integration of ours must add."""
FRAMEWORK_PEERS = (
    ("ASGI", "asgi", "slowapi"),
    ("Django", "django", "django-ratelimit"),
    ("Flask", "wsgi", "flask-limiter"),
)
"""Each framework integration of ours: the framework, its workload, the peer it is held to."""


@dataclass(frozen=True)
class Measured:
    """What a run showed for a goal: the figure, for people, and whether it is met."""

    figure: str
    met: bool


Check = Callable[["Run"], Measured | None]


@dataclass(frozen=True)
class Goal:
    """One goal: `goal` says it, `check` (None: nothing measures it yet) reads a run."""

    goal: str
    check: Check | None = None


@dataclass(frozen=True)
class Target:
    """One goal and how this run did: `met` None when it was not measured."""

    goal: str
    result: str
    met: bool | None


def judge(goal: Goal, run: Run) -> Target:
    measured = goal.check(run) if goal.check is not None else None
    if measured is None:
        return Target(goal.goal, "—", None)
    return Target(goal.goal, measured.figure, measured.met)


def times(value: float) -> str:
    return f"{value:.2f}×"


def per_policy(
    values: dict[str, float | None], show: Callable[[float], str], ok: Callable[[float], bool]
) -> Measured | None:
    """Every policy must reach the goal; policies the run did not measure show "—"."""
    known = [v for v in values.values() if v is not None]
    if not known:
        return None
    figure = ", ".join(f"{p} {'—' if v is None else show(v)}" for p, v in values.items())
    return Measured(figure, all(ok(v) for v in known))


def at_least(
    goal: str, threshold: float, ratio: Callable[[Run, str], float | None], workload: str = ""
) -> Goal:
    """A ratio every policy must reach (every policy `workload` compares, or the policies every
    storage has): `goal` has a `{}` where `threshold` is written."""

    def check(run: Run) -> Measured | None:
        policies = run.policies(workload) if workload else POLICIES
        return per_policy({p: ratio(run, p) for p in policies}, times, lambda v: v >= threshold)

    return Goal(goal.format(f"{threshold:g}"), check)


def at_most(goal: str, ceiling: float, unit: str, workload: str, metric: str) -> Goal:
    """Our `metric` of every policy must stay at or below `ceiling` (shown to 3 digits)."""
    return Goal(
        goal.format(f"{ceiling:g}"),
        lambda run: per_policy(run.ours(workload, metric), lambda v: f"{v:.3g}{unit}",
                               lambda v: v <= ceiling),
    )  # fmt: skip


def lower_cost(run: Run, workload: str, peer: str, backend: str) -> tuple[float, str] | None:
    """How many times less than `peer` ours adds per request in framework workload `workload`
    with its limits on `backend`, and that figure for people; None unless both were measured."""
    mine, theirs = run.added_us(workload, OUR, backend), run.added_us(workload, peer, backend)
    if mine is None or theirs is None:
        return None
    ratio = theirs / mine if mine > 0 else float("inf")
    return ratio, f"{times(ratio)} (ours {mine:.1f} µs, {peer} {theirs:.1f} µs)"


def added_cost(framework: str, workload: str, peer: str) -> list[Goal]:
    """The two goals of a framework integration: at most its `ADDED_US` per request, and
    `LOWER_THAN_PEER` times less than `peer` adds, both in process with in-memory storage."""
    ceiling, lower = ADDED_US[workload], LOWER_THAN_PEER

    def ours(run: Run) -> Measured | None:
        cost = run.added_us(workload, OUR)
        return None if cost is None else Measured(f"{cost:.1f} µs", cost <= ceiling)

    def versus(run: Run) -> Measured | None:
        found = lower_cost(run, workload, peer, "memory")
        return None if found is None else Measured(found[1], found[0] >= lower)

    return [
        Goal(f"{framework}: ≤ {ceiling:g} µs added per request (in memory, in process)", ours),
        Goal(f"{framework}: ≥ {lower:g}× lower added cost than {peer}", versus),
    ]


def lower_than_peers(backend: str) -> Check:
    """Every framework integration of ours adds `LOWER_THAN_PEER` times less than its peer
    with the limits on `backend`; a framework the run did not measure shows "—"."""

    def check(run: Run) -> Measured | None:
        found = {name: lower_cost(run, w, peer, backend) for name, w, peer in FRAMEWORK_PEERS}
        known = [f for f in found.values() if f is not None]
        if not known:
            return None
        figure = "; ".join(f"{name} {'—' if f is None else f[1]}" for name, f in found.items())
        return Measured(figure, all(ratio >= LOWER_THAN_PEER for ratio, _ in known))

    return check


def one_command(run: Run) -> Measured | None:
    sent = [r for r in run.of("redis") if r.library == OUR and "client_commands" in r.metrics]
    if not sent:
        return None
    figure = ", ".join(f"{r.policy} {r.metrics['client_commands']:g} ({r.note})" for r in sent)
    return Measured(figure, all(r.metrics["client_commands"] == 1 and r.note == "EVALSHA"
                                for r in sent))  # fmt: skip


def accepted_all(workload: str, expected: str) -> Check:
    """Every row of ours in `workload` accepts exactly its `expected` metric."""

    def check(run: Run) -> Measured | None:
        rows = [r for r in run.of(workload) if r.library == OUR]
        if not rows:
            return None
        figure = ", ".join(
            f"{r.backend} {r.policy} {r.metrics['accepted']:.0f}/{r.metrics[expected]:.0f}"
            for r in rows
        )
        return Measured(figure, all(r.metrics["accepted"] == r.metrics[expected] for r in rows))

    return check


GOALS: tuple[Goal, ...] = (
    at_least("In memory, one key: ≥ {}× the fastest peer, every policy", MEMORY_VS_PEER,
             lambda run, p: run.vs_best("memory_one_key", p, RATE), "memory_one_key"),
    at_least("In memory, 100,000 keys: ≥ {}× the fastest peer, every policy", MEMORY_VS_PEER,
             lambda run, p: run.vs_best("memory_many_keys", p, RATE), "memory_many_keys"),
    at_most("In memory: ≤ {} bytes per key, every policy", BYTES_PER_KEY, " B",
            "memory_many_keys", "bytes_per_key"),
    Goal("Redis: exactly one command (EVALSHA) per decision, every policy", one_command),
    at_least("Redis, one connection: ≥ {}× the best peer, every policy", REDIS_VS_PEER,
             lambda run, p: run.vs_best("redis", p, RATE)),
    at_least("Redis, one connection: ≥ {}× a raw EVALSHA loop of one INCR, every policy",
             REDIS_VS_EVALSHA, lambda run, p: run.vs_floor("redis", p, "EVALSHA")),
    at_least("Redis, 64 asyncio tasks on one client: ≥ {}× the best peer's async API", 3,
             lambda run, p: run.vs_best("redis_tasks", p, RATE)),
    at_least("Redis, 64 asyncio tasks on one client: ≥ {}× our one-at-a-time figure", 3,
             lambda run, p: run.vs_workload("redis_tasks", "redis_await", p)),
    at_most("PostgreSQL: ≤ {} statements per decision, every policy", POSTGRES_STATEMENTS, "",
            "postgres", "statements"),
    at_least("PostgreSQL, one connection: ≥ {}× a raw single-row UPSERT loop, every policy",
             POSTGRES_VS_UPSERT, lambda run, p: run.vs_floor("postgres", p, "UPSERT")),
    at_least("PostgreSQL, 32 asyncio tasks: ≥ {}× our one-at-a-time figure", 2,
             lambda run, p: run.vs_workload("postgres_tasks", "postgres_await", p)),
    at_least("Django: ModelStorage on PostgreSQL ≥ {}× PostgresStorage, every policy",
             MODEL_VS_POSTGRES, lambda run, p: run.model_vs_postgres(p)),
    Goal("PostgreSQL: contention never turns into refusals (every attempt accepted)",
         accepted_all("flood", "attempts")),
    *(goal for framework in FRAMEWORK_PEERS for goal in added_cost(*framework)),
    Goal(f"Frameworks on Redis: each ≥ {LOWER_THAN_PEER:g}× lower added cost than its peer",
         lower_than_peers("redis")),
    Goal("Exactness: processes hammering one key admit exactly the limit, every policy and "
         "storage", accepted_all("exactness", "limit")),
)  # fmt: skip
"""Every goal, in the order of the report's targets table."""
