"""Stored data no decision wrote, shared by the storage tests: every storage (memory, user
storages, Redis's scripts, PostgreSQL's function) must count each of these as absent, log it
once and overwrite it with its next decision, so the rules are the same everywhere."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import START
from throttle_core.policies import STATE_TYPES, LimiterPolicy

GOOD: dict[str, dict[str, Any]] = {
    "token_bucket": {"limit": 5, "rate": 1.0, "tokens": 2.5, "timer": START},
    "fixed_window": {"interval": 1.0, "start": START, "hits": [4, 1], "timer": START},
    "sliding_window": {
        "interval": 1.0,
        "start": START,
        "previous": 3,
        "current": 2,
        "timer": START,
    },
    "gcra": {"limit": 5, "period": 1.0, "base": START, "count": 2, "timer": START},
}
"""A valid stored state of each policy (with "type", "v" and "id" added), to spoil below."""

IMPLAUSIBLE: dict[str, list[dict[str, Any]]] = {
    "token_bucket": [
        {"tokens": -1e308}, {"tokens": -(2**53) - 2}, {"tokens": 6.0}, {"tokens": 1e308},
        {"limit": 10**19, "tokens": 1.0}, {"limit": 0, "tokens": 0.0}, {"rate": 0.0},
        {"rate": -1.0}, {"timer": -1.7976931348623157e308}, {"timer": 1e300},
        {"timer": START + 1.1e10},
    ],
    "fixed_window": [
        {"hits": [1e30]}, {"hits": [10**19]}, {"hits": [2**53 + 2]}, {"hits": [0, 10**19]},
        {"start": 1e300}, {"start": -1e300}, {"start": START + 1.1e10},
        {"timer": 1e300}, {"timer": -1e300}, {"interval": 0.0}, {"interval": -1.0},
        {"hits": [0, 1], "interval": 6e9}, {"hits": [1], "timer": 1e300},
        {"hits": [1], "timer": START - 1.1e10}, {"hits": [1], "start": START + 1.1e10},
    ],
    "sliding_window": [
        {"previous": -5}, {"current": -15}, {"previous": -5, "current": -15},
        {"previous": 10**19}, {"current": 2**53 + 2}, {"start": 1e300}, {"start": -1e300},
        {"timer": 1e300}, {"interval": 0.0}, {"interval": -60.0},
    ],
    "gcra": [
        {"count": -1}, {"count": 2**53 + 2}, {"count": 10**19}, {"limit": 0}, {"limit": 10**19},
        {"period": 0.0}, {"period": -1.0}, {"base": 1e300}, {"base": -1e300},
        {"base": START + 1.1e10}, {"timer": 1e300},
    ],
}  # fmt: skip
"""Changes to GOOD giving values a decision at START never writes: out-of-range or negative
counts, debts no bucket reaches, times further from START than any TTL. (The first count past
2**53 is 2**53 + 2: where numbers are doubles, as in Lua, 2**53 + 1 reads as 2**53.)"""


def implausible(kind: str) -> list[dict[str, Any]]:
    """The stored dicts of IMPLAUSIBLE for `kind`."""
    return [
        {"type": kind, "v": 1, "id": "x", **GOOD[kind], **change} for change in IMPLAUSIBLE[kind]
    ]


def unchecked_state(data: dict[str, Any]) -> Any:
    """The state object `data` describes, built without any check (as user code might)."""
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k != "v"}
    return STATE_TYPES[data["type"]](**{k: v for k, v in fields.items() if k != "type"})


def spoiled(kind: str) -> list[Any]:
    """Stored values no `kind` limiter can use: wrong shapes, types, versions and numbers,
    another policy's state, and the implausible values above."""
    good = {"type": kind, "v": 1, "id": "x", **GOOD[kind]}
    field = next(iter(GOOD[kind]))
    bad: list[Any] = [None, "text", 7, [good], {}, {**good, "type": "nope"}, {**good, "v": 2}]
    bad += [{k: v for k, v in good.items() if k != field}, {**good, "id": 3}]
    bad += [{**good, field: "1"}, {**good, field: True}, {**good, field: None}]
    bad += [{**good, field: 1e400}, {**good, field: [1]}]
    if kind == "fixed_window":
        bad += [{**good, "hits": []}, {**good, "hits": [-1]}, {**good, "hits": [1.5]}]
        bad += [{**good, "hits": [1.0]}, {**good, "hits": ["1"]}, {**good, "hits": 1}]
    else:
        whole = {"token_bucket": "limit", "sliding_window": "previous", "gcra": "count"}[kind]
        bad += [{**good, whole: 1.5}]
    other = next(k for k in GOOD if k != kind)
    return [*bad, {"type": other, "v": 1, "id": "x", **GOOD[other]}, *implausible(kind)]


def stored_text(data: Any) -> str:
    """`data` as stored JSON text (infinite numbers written as 1e400, which JSON readers take
    for infinity)."""
    return json.dumps(data).replace("1e+400", "1e400").replace("Infinity", "1e400")


def nested(depth: int) -> Any:
    """A mapping `depth` levels deep, built without recursion."""
    data: dict[str, Any] = {"type": "token_bucket", "v": 1}
    inner = data
    for _ in range(depth):
        inner["id"] = inner = {}
    return data


def decided_as_absent(
    storage: Any,
    policy: LimiterPolicy,
    id: str,
    data: Any,
    caplog: pytest.LogCaptureFixture,
    then: Callable[[], object] | None = None,
) -> None:
    """Check that `storage`, holding `data` under `id`, decides as for a new limiter: one
    warning, the decision and the stored state of the Python policy from nothing (`then`
    checks more at that point), and no second warning from the decision after it."""
    with caplog.at_level(logging.WARNING, "throttle_core.storage"):
        caplog.clear()
        result = storage.consume(policy, id, 2, 0.0, START)
        assert len(caplog.records) == 1, data
        new, expected = policy.decide(id, None, START, 2, 0.0)
        assert result == expected, data
        assert storage.fetch(id) == new, data
        if then is not None:
            then()
        storage.consume(policy, id, 1, 0.0, START)
        assert len(caplog.records) == 1, data
