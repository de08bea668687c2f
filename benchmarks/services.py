"""The servers a run talks to, and the two meters that count what a decision sends them:
Redis `MONITOR` (client commands, and commands run inside scripts) and a loopback proxy
that reads the PostgreSQL wire protocol (statements and round trips)."""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import redis


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def private_redis() -> Iterator[str | None]:
    """A redis-server of our own on a free loopback port, so that other clients of the shared
    server neither slow the run nor show up in its command counts; None without redis-server."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {port}") from None
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        process.terminate()
        process.wait(10)


class CommandLog:
    """Commands a Redis server ran while watched: sent by clients, or run by Lua scripts."""

    def __init__(self) -> None:
        self.client: Counter[str] = Counter()
        self.script: Counter[str] = Counter()

    def add(self, line: str) -> None:
        """One MONITOR line: `+<time> [<db> <client>] "COMMAND" "arg" ...`."""
        head, _, rest = line.partition("] ")
        source = head.rpartition(" ")[2]
        name = rest.split(" ", 1)[0].strip('"').upper()
        (self.script if source == "lua" else self.client)[name] += 1


@contextmanager
def monitor(url: str) -> Iterator[CommandLog]:
    """Count every command the server at `url` runs during the block (use a private server:
    MONITOR sees every client)."""
    parts = urlsplit(url)
    log = CommandLog()
    marker = f"bench-end-{uuid.uuid4().hex}"
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379))
    sock.sendall(b"MONITOR\r\n")
    reader = sock.makefile("rb")
    if reader.readline() != b"+OK\r\n":
        raise RuntimeError("the Redis server refused MONITOR")

    def read() -> None:
        for raw in reader:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if marker in line:
                return
            log.add(line)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    try:
        yield log
    finally:
        sender = redis.Redis.from_url(url)
        sender.echo(marker)
        sender.close()
        thread.join(10)
        reader.close()
        sock.close()
    log.client.pop("HELLO", None)
    log.client.pop("CLIENT", None)


class WireCounter:
    """A loopback TCP proxy in front of PostgreSQL that counts the messages clients send:
    `statements` (simple queries and Execute messages) and `round_trips` (simple queries and
    Sync messages, each of which waits for the server to be ready again)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.messages: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        port = self._server.getsockname()[1]
        netloc = parts.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{port}"
        query = "&".join(q for q in (parts.query, "sslmode=disable&gssencmode=disable") if q)
        self.url = urlunsplit(
            (parts.scheme, f"{netloc[0]}@{host}" if len(netloc) == 2 else host, parts.path,
             query, "")
        )  # fmt: skip
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def statements(self) -> int:
        return self.messages["Q"] + self.messages["E"]

    @property
    def round_trips(self) -> int:
        return self.messages["Q"] + self.messages["S"]

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._count, args=(client, upstream), daemon=True).start()
            threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()

    def _count(self, client: socket.socket, upstream: socket.socket) -> None:
        """Forward the client's bytes, counting each typed message after the startup one."""
        buffer = b""
        started = False
        while chunk := _recv(client):
            upstream.sendall(chunk)
            buffer += chunk
            while True:
                if not started:
                    if len(buffer) < 4:
                        break
                    size = struct.unpack("!I", buffer[:4])[0]
                    if len(buffer) < size:
                        break
                    buffer, started = buffer[size:], True
                    continue
                if len(buffer) < 5:
                    break
                size = struct.unpack("!I", buffer[1:5])[0]
                if len(buffer) < size + 1:
                    break
                with self._lock:
                    self.messages[chr(buffer[0])] += 1
                buffer = buffer[size + 1 :]
        upstream.close()


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _pipe(source: socket.socket, target: socket.socket) -> None:
    while chunk := _recv(source):
        try:
            target.sendall(chunk)
        except OSError:
            break
    target.close()
