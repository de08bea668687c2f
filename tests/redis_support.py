"""Redis for tests: throw-away `redis-server` processes on free loopback ports, and clients on
the test server that write under a private key prefix and delete their keys afterwards."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio

from tests.conftest import IN_CI, REDIS_URL, need_service

HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """One `redis-server` without persistence, in its own directory under `workdir`."""

    def __init__(self, workdir: Path, *options: str) -> None:
        self.options = options
        for _ in range(5):
            self.port = free_port()
            self.dir = workdir / f"redis-{self.port}"
            self.dir.mkdir(parents=True, exist_ok=True)
            self._launch()
            if self._wait_until_up():
                return
        raise RuntimeError("redis-server could not start on a free loopback port")

    def _launch(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", HOST, "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--loglevel", "warning",
             *self.options],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def restart(self) -> None:
        """Start the server again on its port (empty, as after a crash without persistence)."""
        self.stop()
        self._launch()
        if not self._wait_until_up():
            raise RuntimeError(f"redis-server could not start again on port {self.port}")

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open and nothing answers, as a hung
        host does."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def client(self, **options: Any) -> redis.Redis:
        return redis.Redis(host=HOST, port=self.port, **options)

    def asyncio_client(self, **options: Any) -> redis.asyncio.Redis:
        return redis.asyncio.Redis(host=HOST, port=self.port, **options)

    def _wait_until_up(self) -> bool:
        """Whether the server answers PING; False if it exited (its port was taken meanwhile)."""
        client = self.client(socket_connect_timeout=0.2)
        try:
            for _ in range(250):
                if self.process.poll() is not None:
                    return False
                try:
                    client.ping()
                    return True
                except redis.ConnectionError:
                    time.sleep(0.02)
            self.stop()
            raise RuntimeError(f"redis-server on port {self.port} did not answer PING")
        finally:
            client.close()

    def stop(self) -> None:
        """Kill the server, as a crash would: no shutdown, nothing saved."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    @property
    def running(self) -> bool:
        return self.process.poll() is None


@contextmanager
def redis_servers(count: int, workdir: Path) -> Iterator[list[RedisServer]]:
    """`count` fresh servers, all stopped on exit; fails under CI=true without redis-server."""
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed"
        if IN_CI:
            pytest.fail(message + " (CI=true: a missing service is a failure)")
        pytest.skip(message)
    with ExitStack() as stack:
        servers = []
        for _ in range(count):
            server = RedisServer(workdir)
            stack.callback(server.stop)
            servers.append(server)
        yield servers


def start_cluster(servers: list[RedisServer]) -> None:
    """Join `servers` into one cluster of masters and wait until every node says it is ok."""
    subprocess.run(
        ["redis-cli", "--cluster", "create", *(f"{HOST}:{s.port}" for s in servers),
         "--cluster-replicas", "0", "--cluster-yes"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    for server in servers:
        client = server.client()
        while client.cluster("info")["cluster_state"] != "ok":
            assert time.monotonic() < deadline, "the test cluster never reached cluster_state:ok"
            time.sleep(0.05)
        client.close()


@contextmanager
def redis_cluster(workdir: Path, masters: int = 3) -> Iterator[list[RedisServer]]:
    """A cluster of `masters` fresh cluster-enabled servers, all stopped on exit
    (`redis_servers(0, …)` only checks that redis-server exists)."""
    with redis_servers(0, workdir):
        servers: list[RedisServer] = []
        try:
            for _ in range(masters):
                servers.append(
                    RedisServer(workdir, "--cluster-enabled", "yes", "--cluster-port",
                                str(free_port()), "--cluster-node-timeout", "5000")
                )  # fmt: skip
            start_cluster(servers)
            yield servers
        finally:
            for server in servers:
                server.stop()


def cluster_url(servers: list[RedisServer]) -> str:
    """The `redis+cluster://` URL naming every node of `servers`."""
    return "redis+cluster://" + ",".join(f"{HOST}:{s.port}" for s in servers)


def delete_keys(client: redis.Redis, prefix: str) -> None:
    """Remove every key a test wrote under its own `prefix`."""
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)


@asynccontextmanager
async def private_redis(
    is_async: bool, name: str
) -> AsyncIterator[tuple[redis.Redis | redis.asyncio.Redis, str]]:
    """A client on the test server (asyncio or not) and a fresh prefix `test:<name>:<random>:`
    whose keys are all deleted on exit, so tests share db 15 without FLUSHDB."""
    url = need_service("Redis", REDIS_URL, 6379)
    prefix = f"test:{name}:{uuid.uuid4().hex}:"
    admin = redis.Redis.from_url(url)
    client = redis.asyncio.Redis.from_url(url) if is_async else admin
    try:
        yield client, prefix
    finally:
        if isinstance(client, redis.asyncio.Redis):
            await client.aclose()
        delete_keys(admin, prefix)
        admin.close()


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    """A client on the test server (import this fixture into a conftest to use it)."""
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture
async def aclient(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    """An asyncio client on the test server."""
    connection = redis.asyncio.Redis.from_url(redis_url)
    yield connection
    await connection.aclose()


@pytest.fixture
def prefix(request: pytest.FixtureRequest, client: redis.Redis) -> Iterator[str]:
    """`test:<test module>:<random>:`; every key under it is deleted after the test."""
    private = f"test:{request.module.__name__.rpartition('.')[2]}:{uuid.uuid4().hex}:"
    yield private
    delete_keys(client, private)


@contextmanager
def reader_redis(
    ports: tuple[int, ...], workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Private servers in place of the ones documentation examples name: a client made as a
    reader would (`redis.Redis()`, `redis.asyncio.Redis(port=6380)`) on one of `ports` (6379
    when none is given) reaches a fresh server of its own; other ports are left as given."""
    with redis_servers(len(ports), workdir) as servers:
        private = {doc: server.port for doc, server in zip(ports, servers, strict=True)}
        for cls in (redis.Redis, redis.asyncio.Redis):
            monkeypatch.setattr(cls, "__init__", _redirected(cls.__init__, private))
        yield


def _redirected(init: Any, ports: dict[int, int]) -> Any:
    """`init` with a documented port swapped for its private server's."""

    def __init__(self: Any, **options: Any) -> None:
        port = options.get("port", 6379)
        if port in ports:
            options = {**options, "host": HOST, "port": ports[port]}
        init(self, **options)

    return __init__
