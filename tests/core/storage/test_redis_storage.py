"""RedisStorage on the test server: key layout, save/fetch/delete, bad stored data,
NOSCRIPT recovery, sync/async client mix-ups, URLs, and one EVALSHA per decision."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.crc import key_slot
from redis.retry import Retry

from tests.conftest import START
from tests.core.storage.differential import POLICIES, policy_id
from tests.core.storage.stored_data import decided_as_absent, implausible, spoiled, stored_text
from tests.redis_support import RedisServer, aclient, client, prefix, redis_servers
from tests.test_docs import BLOCK, ROOT
from throttle_core import (
    CompoundRateLimiterFactory,
    ConfigError,
    FrozenClock,
    RateLimiterFactory,
    storage_from_url,
)
from throttle_core.policies import FixedWindowState, LimiterPolicy, TokenBucketState
from throttle_core.storage.redis import RedisStorage
from throttle_core.storage.redis_wire import Connections

pytestmark = pytest.mark.redis
__all__ = ["aclient", "client", "prefix"]

BUCKET = {"policy": "token_bucket", "id": "api", "limit": 10,
          "rate": {"interval": "1 minute", "amount": 10}}  # fmt: skip
CONFIGS = [
    BUCKET,
    {"policy": "fixed_window", "id": "fw", "limit": 10, "interval": 60},
    {"policy": "fixed_window", "id": "fh", "limit": 10, "interval": 60, "align": "first_hit"},
    {"policy": "sliding_window", "id": "sw", "limit": 10, "interval": 60},
]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


def test_key_is_prefix_config_id_and_the_request_key_as_hash_tag() -> None:
    storage = RedisStorage(redis.Redis(), "app:")
    assert storage.key("api:user-1") == "app:api:{user-1}"
    assert storage.key("api") == "app:{api}"
    assert storage.key("a{b}:c}{d") == "app:a%7Bb%7D:{c%7D%7Bd}"


HOSTILE = ["a:b", "a%3Ab", "\x00\r\n\t", "{}", "}{", "{x}", "x" * 10_000, "x" * 10_001, "é", ""]


def test_hostile_keys_never_collide_and_stay_independent(
    client: redis.Redis, prefix: str, clock: FrozenClock
) -> None:
    storage = RedisStorage(client, prefix)
    factory = RateLimiterFactory({**BUCKET, "limit": 1}, storage, clock=clock)
    for key in HOSTILE:
        assert factory.create(key).consume().accepted, key
    stored = set(client.scan_iter(match=prefix + "*"))
    assert len(stored) == len(HOSTILE)
    assert all(len(key) < 600 for key in stored)
    for key in HOSTILE:
        assert not factory.create(key).consume().accepted, key


def test_every_limit_on_one_request_key_shares_a_cluster_slot(prefix: str) -> None:
    storage = RedisStorage(redis.Redis(), prefix)
    factories = [RateLimiterFactory(config, storage) for config in CONFIGS]
    for key in HOSTILE[:-1]:
        compound = CompoundRateLimiterFactory(factories).create(key)
        slots = {key_slot(storage.key(limiter.id).encode()) for limiter in compound.limiters}
        assert len(slots) == 1, key


def test_prefix_with_braces_or_not_a_string_is_refused() -> None:
    with pytest.raises(ConfigError, match="prefix"):
        RedisStorage(redis.Redis(), "{app}:")
    with pytest.raises(ConfigError, match="prefix"):
        RedisStorage(redis.Redis(), 5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="async_client"):
        RedisStorage(redis.Redis(), async_client=redis.Redis())


def test_save_fetch_delete_round_trip_with_ttl(client: redis.Redis, prefix: str) -> None:
    storage = RedisStorage(client, prefix)
    state = TokenBucketState("api:u", 10, 1 / 6, 6.000000000000001, START + 0.1)
    storage.save(state)
    assert storage.fetch("api:u") == state
    assert 0 < client.ttl(storage.key("api:u")) <= state.expiration_time == 24
    storage.delete("api:u")
    assert storage.fetch("api:u") is None


async def test_async_twins_round_trip(aclient: redis.asyncio.Redis, prefix: str) -> None:
    storage = RedisStorage(aclient, prefix)
    state = FixedWindowState("fw:u", 60.0, START, (3, 0, 2), START + 1.5)
    await storage.asave(state)
    assert await storage.afetch("fw:u") == state
    await storage.adelete("fw:u")
    assert await storage.afetch("fw:u") is None


def test_what_consume_writes_fetch_reads_and_the_reverse(
    client: redis.Redis, prefix: str, clock: FrozenClock
) -> None:
    storage = RedisStorage(client, prefix)
    for config in CONFIGS:
        limiter = RateLimiterFactory(config, storage, clock=clock).create("u")
        limiter.consume(4)
        state = storage.fetch(limiter.id)
        assert state is not None
        assert state.id == limiter.id
        storage.save(state)
        assert limiter.consume(6).remaining == 0, config
        assert not limiter.consume(1).accepted, config


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"\xff\xfe", b"[1, 2]", b'{"type": "token_bucket", "v": 1}',
     b'{"type": "token_bucket", "v": 2, "id": "x", "limit": 10, "rate": 1, "tokens": 1, '
     b'"timer": 1}', b'{"type": "token_bucket", "v": 1, "id": "x", "limit": 10, "rate": 1, '
     b'"tokens": NaN, "timer": 1}', b'{"type": "fixed_window", "v": 1, "id": "x", '
     b'"interval": 60, "start": 0, "hits": [], "timer": 0}'],
)  # fmt: skip
def test_undecodable_value_is_absent_and_logged(
    client: redis.Redis,
    prefix: str,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
    raw: bytes,
) -> None:
    storage = RedisStorage(client, prefix)
    bucket = RateLimiterFactory(BUCKET, storage, clock=clock).create("u")
    window = RateLimiterFactory(CONFIGS[1], storage, clock=clock).create("u")
    client.set(storage.key("api:u"), raw)
    client.set(storage.key("fw:u"), raw)
    with caplog.at_level(logging.WARNING, "throttle_core.storage"):
        assert storage.fetch("api:u") is None
        assert bucket.consume(3).remaining == 7
        assert window.consume(3).remaining == 7
    assert [r.levelname for r in caplog.records] == ["WARNING"] * 3
    assert sum("undecodable" in r.getMessage() for r in caplog.records) >= 2


@pytest.mark.parametrize("policy", POLICIES, ids=policy_id)
def test_stored_data_no_decision_wrote_is_absent_logged_once_and_overwritten(
    client: redis.Redis, prefix: str, caplog: pytest.LogCaptureFixture, policy: LimiterPolicy
) -> None:
    storage = RedisStorage(client, prefix)
    for n, data in enumerate(spoiled(policy.name)):
        id = f"bad:{n}"
        client.set(storage.key(id), stored_text(data))

        def expires_with_its_ttl(key: str = storage.key(id)) -> None:
            assert 0 < client.ttl(key) <= 2

        decided_as_absent(storage, policy, id, data, caplog, expires_with_its_ttl)


@pytest.mark.parametrize("policy", POLICIES, ids=policy_id)
def test_implausible_numbers_in_the_layout_the_scripts_write_are_absent_too(
    client: redis.Redis, prefix: str, caplog: pytest.LogCaptureFixture, policy: LimiterPolicy
) -> None:
    """The scripts read their own layout (compact JSON of the state's own id) with patterns,
    the fixed window's one-window case before anything else: the same numbers are refused
    there as in a state decoded in full."""
    storage = RedisStorage(client, prefix)
    for n, data in enumerate(implausible(policy.name)):
        id = f"laid-out:{n}"
        client.set(storage.key(id), json.dumps({**data, "id": id}, separators=(",", ":")))
        decided_as_absent(storage, policy, id, data, caplog)


@pytest.mark.parametrize("policy", POLICIES, ids=policy_id)
@pytest.mark.parametrize("kind", ["hash", "list", "set", "zset"])
async def test_another_type_of_redis_value_under_the_key_is_absent(
    client: redis.Redis,
    aclient: redis.asyncio.Redis,
    prefix: str,
    caplog: pytest.LogCaptureFixture,
    policy: LimiterPolicy,
    kind: str,
) -> None:
    writes = {"hash": ("HSET", "f", "1"), "list": ("RPUSH", "1"), "set": ("SADD", "1"),
              "zset": ("ZADD", "1", "m")}  # fmt: skip
    storage = RedisStorage(client, prefix, async_client=aclient)
    for n, refund in enumerate([False, True]):
        key = storage.key(f"typed:{n}")
        command, *args = writes[kind]
        client.execute_command(command, key, *args)  # type: ignore[no-untyped-call]
        with caplog.at_level(logging.WARNING, "throttle_core.storage"):
            caplog.clear()
            assert storage.fetch(f"typed:{n}") is None
            assert await storage.afetch(f"typed:{n}") is None
            if refund:
                storage.refund(policy, f"typed:{n}", 1, START, START)
                assert client.type(key) == kind.encode()
                result = await storage.aconsume(policy, f"typed:{n}", 2, 0.0, START)
            else:
                result = storage.consume(policy, f"typed:{n}", 2, 0.0, START)
        assert result == policy.decide(f"typed:{n}", None, START, 2, 0.0)[1]
        assert len(caplog.records) == 4 if refund else 3
        assert all("another type of Redis value" in r.getMessage() for r in caplog.records)
        assert client.type(key) == b"string"


def test_another_policys_state_is_ignored_and_logged(
    client: redis.Redis, prefix: str, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    storage = RedisStorage(client, prefix)
    RateLimiterFactory(CONFIGS[3], storage, clock=clock).create("u").consume(5)
    bucket = RateLimiterFactory({**BUCKET, "id": "sw"}, storage, clock=clock).create("u")
    with caplog.at_level(logging.WARNING, "throttle_core.storage"):
        assert bucket.consume(1).remaining == 9
    assert "ignoring a sliding_window state" in caplog.text


def test_noscript_after_script_flush_is_recovered(
    client: redis.Redis, prefix: str, clock: FrozenClock
) -> None:
    limiter = RateLimiterFactory(BUCKET, RedisStorage(client, prefix), clock=clock).create("u")
    assert limiter.consume(4).remaining == 6
    client.script_flush()
    assert limiter.consume(4).remaining == 2
    assert not limiter.consume(4).accepted


async def test_noscript_is_recovered_on_asyncio(
    aclient: redis.asyncio.Redis, prefix: str, clock: FrozenClock
) -> None:
    storage = RedisStorage(aclient, prefix)
    limiter = RateLimiterFactory(BUCKET, storage, clock=clock).create("u")
    reservation = await limiter.areserve(4)
    await aclient.script_flush()
    await reservation.acancel()
    assert (await limiter.aconsume(0)).remaining == 10


async def test_sync_call_on_asyncio_client_names_the_async_twin(
    aclient: redis.asyncio.Redis, prefix: str
) -> None:
    limiter = RateLimiterFactory(BUCKET, RedisStorage(aclient, prefix)).create("u")
    with pytest.raises(TypeError, match=r"RedisStorage.consume\(\) needs a synchronous.*aconsume"):
        limiter.consume()
    with pytest.raises(TypeError, match=r"fetch\(\).*afetch"):
        RedisStorage(aclient, prefix).fetch("u")


async def test_async_call_on_sync_client_names_the_sync_twin(
    client: redis.Redis, prefix: str
) -> None:
    limiter = RateLimiterFactory(BUCKET, RedisStorage(client, prefix)).create("u")
    with pytest.raises(TypeError, match=r"aconsume\(\) needs a redis.asyncio client.*consume\(\)"):
        await limiter.aconsume()
    with pytest.raises(TypeError, match=r"adelete\(\).*delete\(\)"):
        await limiter.areset()


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: str(c["id"]))
def test_a_client_that_decodes_responses_gives_the_same_decisions(
    redis_url: str, client: redis.Redis, prefix: str, clock: FrozenClock, config: dict[str, Any]
) -> None:
    decoding = redis.Redis.from_url(redis_url, decode_responses=True)
    results = []
    for source, name in ((client, "bytes"), (decoding, "text")):
        limiter = RateLimiterFactory(config, RedisStorage(source, prefix + name), clock=clock)
        results.append([limiter.create("u").consume(n) for n in (4, 0, 6, 1)])
    assert results[0] == results[1]
    assert [r.accepted for r in results[1]] == [True, True, True, False]
    decoding.close()


async def test_one_storage_with_both_clients_serves_both_worlds(
    client: redis.Redis, aclient: redis.asyncio.Redis, prefix: str, clock: FrozenClock
) -> None:
    storage = RedisStorage(client, prefix, async_client=aclient)
    limiter = RateLimiterFactory(BUCKET, storage, clock=clock).create("u")
    assert limiter.consume(4).remaining == 6
    assert (await limiter.aconsume(4)).remaining == 2


async def test_storage_from_url_makes_both_clients_with_pool_options(
    redis_url: str, client: redis.Redis, prefix: str, clock: FrozenClock
) -> None:
    storage = storage_from_url(f"{redis_url}?max_connections=7&socket_timeout=2.5&prefix={prefix}")
    assert isinstance(storage, RedisStorage)
    assert storage.prefix == prefix
    limiter = RateLimiterFactory(BUCKET, storage, clock=clock).create("u")
    assert limiter.consume(4).remaining == 6
    assert (await limiter.aconsume(4)).remaining == 2
    sync, asyncio_client = storage._clients[False], storage._clients[True]
    for made in (sync, asyncio_client):
        assert made.connection_pool.max_connections == 7
        assert made.connection_pool.connection_kwargs["socket_timeout"] == 2.5
    assert client.exists(storage.key(limiter.id))
    storage.close()
    await storage.aclose()


def test_rediss_url_makes_tls_clients() -> None:
    storage = storage_from_url("rediss://cache.example:6380/3?ssl_cert_reqs=none")
    assert isinstance(storage, RedisStorage)
    for is_async in (False, True):
        pool = storage._client(is_async, "test").connection_pool
        assert "SSL" in pool.connection_class.__name__
        assert (pool.connection_kwargs["port"], pool.connection_kwargs["db"]) == (6380, 3)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://127.0.0.1/0?pool=3", "unknown option pool"),
        ("redis://127.0.0.1/0?max_connections=many", "max_connections='many'"),
        ("redis://a:1,b:2/0", "several hosts"),
        ("redis://127.0.0.1:port/0", "bad port"),
        ("redis+cluster://127.0.0.1:7000/0", "no databases"),
        ("redis+cluster://127.0.0.1:7000?db=1", "unknown option db"),
        ("redis+sentinel://127.0.0.1:26379", "service's name"),
        ("redis+sentinel://127.0.0.1:26379/mymaster/x", "bad database number"),
    ],
)
def test_bad_urls_raise_config_error_naming_the_problem(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        storage_from_url(url)


async def test_cluster_and_sentinel_urls_parse_hosts_credentials_and_options() -> None:
    cluster = storage_from_url(
        "redis+cluster://u:p%40ss@10.0.0.1:7000,[::1]:7001?max_connections=3"
    )
    assert isinstance(cluster, RedisStorage)
    nodes = cluster._client(True, "test").nodes_manager.startup_nodes
    assert sorted(nodes) == ["10.0.0.1:7000", "::1:7001"]
    node = next(iter(nodes.values()))
    assert (node.max_connections, node.connection_kwargs["password"]) == (3, "p@ss")
    sentinel = storage_from_url(
        "redis+sentinel://:secret@h1:26379,h2/mymaster/2?sentinel_password=s&prefix=x:"
    )
    assert isinstance(cluster, RedisStorage)
    assert isinstance(sentinel, RedisStorage)
    assert sentinel.prefix == "x:"
    assert cluster.prefix == "throttle:"
    master = sentinel._client(False, "test")
    pool = master.connection_pool
    assert (pool.service_name, pool.connection_kwargs["db"]) == ("mymaster", 2)
    assert pool.connection_kwargs["password"] == "secret"
    manager = pool.sentinel_manager
    hosts = [s.connection_pool.connection_kwargs for s in manager.sentinels]
    assert [(h["host"], h["port"], h["password"]) for h in hosts] == [
        ("h1", 26379, "s"), ("h2", 26379, "s")]  # fmt: skip


@pytest.fixture(scope="module")
def private_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A server of our own, so the command counts see no other client's traffic."""
    with redis_servers(1, tmp_path_factory.mktemp("commandstats")) as (server,):
        yield server


def command_calls(client: redis.Redis) -> dict[str, int]:
    """Calls per command since the last CONFIG RESETSTAT (commands run by scripts count too)."""
    stats: dict[str, Any] = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: str(c["id"]))
def test_one_evalsha_per_decision_after_warm_up(
    private_server: RedisServer, clock: FrozenClock, config: dict[str, Any]
) -> None:
    admin, worker = private_server.client(), private_server.client()
    limiter = RateLimiterFactory(config, RedisStorage(worker), clock=clock).create("u")
    limiter.consume()
    admin.config_resetstat()
    for tokens in (1, 2, 0, 1):
        clock.advance(0.5)
        limiter.consume(tokens)
    limiter.reserve(1).cancel()
    calls = command_calls(admin)
    calls.pop("config|resetstat", None)
    calls.pop("info", None)
    assert calls.pop("evalsha") == 6
    assert calls.pop("get") == 6, "the scripts' own reads: one per run, none from the client"
    assert set(calls) <= {"set"}
    assert calls.get("set", 0) <= 6
    admin.close()
    worker.close()


def test_redis_doc_examples_run(redis_url: str) -> None:
    """Every ```python block of docs/redis.md runs (they use the Redis on 127.0.0.1)."""
    text = (ROOT / "docs/redis.md").read_text()
    blocks = list(BLOCK.finditer(text))
    assert len(blocks) >= 4
    for match in blocks:
        code = "\n" * text[: match.start()].count("\n") + match.group(1)
        exec(compile(code, str(ROOT / "docs/redis.md"), "exec"), {"__name__": "__doc_example__"})
    assert "docs/redis.md" in (ROOT / "README.md").read_text()


BLOCK_FOR_A_MOMENT = b"*3\r\n$5\r\nBLPOP\r\n$13\r\nthrottle:none\r\n$3\r\n0.5\r\n"
PING = b"*1\r\n$4\r\nPING\r\n"


def test_a_restarted_server_costs_one_failed_call_not_one_per_kept_connection(
    tmp_path: Path,
) -> None:
    with redis_servers(1, tmp_path) as (server,):
        client = server.client(retry=Retry(NoBackoff(), 0))
        connections = Connections(client)
        together = threading.Barrier(4)

        def hold_a_connection() -> None:
            together.wait()
            connections.send(BLOCK_FOR_A_MOMENT)

        threads = [threading.Thread(target=hold_a_connection) for _ in range(4)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert len(connections._idle) == 4
            server.restart()
            outcomes = []
            for _ in range(6):
                try:
                    outcomes.append(connections.send(PING))
                except redis.ConnectionError:
                    outcomes.append("failed")
            assert outcomes == ["failed", b"PONG", b"PONG", b"PONG", b"PONG", b"PONG"]
        finally:
            client.close()
