"""Stored data no decision wrote, in the in-memory storage and in user storages: counted as
absent, logged once, overwritten by the next decision; and what a user storage's `fetch` may
return (a state, its `to_dict()` mapping, None) and the error for anything else."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.conformance.bench import AsyncDictStorage, DictStorage
from tests.conftest import START
from tests.core.storage.differential import POLICIES, policy_id
from tests.core.storage.stored_data import (
    implausible,
    nested,
    spoiled,
    stored_text,
    unchecked_state,
)
from throttle_core import FrozenClock, InMemoryStorage, LocalLock, RateLimiterFactory
from throttle_core.limiter import Limiter
from throttle_core.policies import LimiterPolicy

LOGGER = "throttle_core.storage"
DEEP_JSON = '{"a": ' * 100_000 + "1" + "}" * 100_000


@pytest.mark.parametrize("policy", POLICIES, ids=policy_id)
def test_memory_refuses_to_keep_a_state_no_decision_could_write(
    policy: LimiterPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FrozenClock(START)
    storage = InMemoryStorage(clock=clock)
    for n, data in enumerate(implausible(policy.name)):
        id = f"bad:{n}"
        good, _ = policy.decide(id, None, START, 1, 0.0)
        storage.save(good)
        with caplog.at_level(logging.WARNING, LOGGER):
            caplog.clear()
            storage.save(unchecked_state({**data, "id": id}))
            assert len(caplog.records) == 1, data
            assert "given to InMemoryStorage.save" in caplog.text
            assert storage.fetch(id) is None, data
            new, expected = policy.decide(id, None, START, 2, 0.0)
            assert storage.consume(policy, id, 2, 0.0, START) == expected
            assert storage.fetch(id) == new
            assert len(caplog.records) == 1, data


class JsonStorage(DictStorage):
    """A save/fetch/delete user storage, with stored text planted by hand."""

    def plant(self, id: str, data: Any) -> None:
        self.data[id] = data if isinstance(data, str) else stored_text(data)


class MappingStorage(JsonStorage):
    """A user storage whose `fetch` returns the stored mapping, without `state_from_dict`."""

    def fetch(self, id: str) -> Any:
        raw = self.data.get(id)
        return None if raw is None else json.loads(raw)


@pytest.mark.parametrize("storage_type", [JsonStorage, MappingStorage])
@pytest.mark.parametrize("policy", POLICIES, ids=policy_id)
def test_user_storages_count_bad_data_as_absent_log_once_and_overwrite(
    policy: LimiterPolicy, storage_type: type[JsonStorage], caplog: pytest.LogCaptureFixture
) -> None:
    clock = FrozenClock(START)
    storage = storage_type()
    for n, data in enumerate([*spoiled(policy.name), DEEP_JSON]):
        if storage_type is MappingStorage and not isinstance(data, dict):
            continue
        limiter = Limiter(f"bad:{n}", policy, storage, LocalLock(), clock=clock)
        storage.plant(limiter.id, data)
        with caplog.at_level(logging.WARNING, LOGGER):
            caplog.clear()
            result = limiter.consume(2)
            assert len(caplog.records) == 1, data
            assert f"of {limiter.id!r} from {storage_type.__name__}" in caplog.text
            new, expected = policy.decide(limiter.id, None, START, 2, 0.0)
            assert result == expected, data
            assert json.loads(storage.data[limiter.id]) == new.to_dict()  # type: ignore[union-attr]
            limiter.consume(1)
            assert len(caplog.records) == 1, data


class NestedStorage(DictStorage):
    """A user storage whose `fetch` returns a mapping 100,000 levels deep."""

    def fetch(self, id: str) -> Any:
        return nested(100_000)


async def test_a_deeply_nested_mapping_from_a_user_storage_is_absent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = RateLimiterFactory("2/minute", NestedStorage()).create("k")
    with caplog.at_level(logging.WARNING, LOGGER):
        assert limiter.consume().remaining == 1
        assert (await limiter.aconsume()).remaining == 1
    assert caplog.text.count("undecodable state of '2-per-minute:k' from NestedStorage") == 2


class PlainDictStorage(DictStorage):
    """A natural user storage: it keeps `to_dict()` and hands it back as it is."""

    def __init__(self) -> None:
        self.states: dict[str, dict[str, Any]] = {}

    def save(self, state: Any) -> None:
        self.states[state.id] = state.to_dict()

    def fetch(self, id: str) -> Any:
        return self.states.get(id)


class AsyncPlainDictStorage(PlainDictStorage):
    async def afetch(self, id: str) -> Any:
        return self.fetch(id)

    async def asave(self, state: Any) -> None:
        self.save(state)


@pytest.mark.parametrize("storage_type", [PlainDictStorage, AsyncPlainDictStorage])
async def test_a_fetch_returning_the_to_dict_mapping_limits(
    storage_type: type[PlainDictStorage], caplog: pytest.LogCaptureFixture
) -> None:
    clock = FrozenClock(START)
    factory = RateLimiterFactory("3/minute", storage_type(), clock=clock)
    with caplog.at_level(logging.WARNING, LOGGER):
        admitted = [factory.create("k").consume().accepted for _ in range(5)]
        assert not (await factory.create("k").aconsume()).accepted
    assert admitted == [True, True, True, False, False]
    assert not caplog.records


class WrongTypeStorage(DictStorage):
    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value

    def fetch(self, id: str) -> Any:
        return self.value


class AsyncWrongTypeStorage(AsyncDictStorage):
    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value

    async def fetch(self, id: str) -> Any:
        return self.value


@pytest.mark.parametrize("value", ['{"type": "token_bucket"}', b"{}", 7, ["x"], object()])
@pytest.mark.parametrize("storage_type", [WrongTypeStorage, AsyncWrongTypeStorage])
async def test_any_other_value_from_fetch_is_an_error_of_that_storage(
    value: Any, storage_type: type[WrongTypeStorage]
) -> None:
    limiter = RateLimiterFactory("3/minute", storage_type(value)).create("k")
    message = (
        rf"{storage_type.__name__}\.fetch\('3-per-minute:k'\) returned a {type(value).__name__}; "
        r"a storage's fetch must return a limiter state, its to_dict\(\) mapping"
    )
    if storage_type is WrongTypeStorage:
        with pytest.raises(TypeError, match=message):
            limiter.consume()
    with pytest.raises(TypeError, match=message):
        await limiter.aconsume()
