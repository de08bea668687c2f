"""`python -m benchmarks`: run the workloads, write benchmarks/results/latest.{md,json,png}."""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import redis

from benchmarks.record import Row
from benchmarks.report import Run, refresh_doc, versions
from benchmarks.services import private_redis
from benchmarks.settings import QUICK, Services, Settings
from benchmarks.workloads import django_storage, exactness, frameworks, memory, postgres, servers
from benchmarks.workloads import redis as redis_workload

RESULTS = Path(__file__).resolve().parent / "results"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
POSTGRES_URL = os.environ.get(
    "THROTTLE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
Workload = Callable[[Settings, Services], list[Row]]
WORKLOADS: dict[str, tuple[Workload, str]] = {
    "1": (memory.one_key, "memory"),
    "2": (memory.many_keys, "memory"),
    "3": (redis_workload.run, "redis"),
    "4": (postgres.run, "postgres"),
    "5": (exactness.run, "redis/postgres"),
    "6": (frameworks.run, "memory/redis"),
    "7": (servers.run, "redis"),
    "8": (django_storage.run, "postgres"),
}


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke run")
    parser.add_argument(
        "--workloads", default="12345678", help="which workloads to run, e.g. 126 (default all)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for latest.*")
    parser.add_argument(
        "--redis-url",
        help="a Redis server to use instead of a private redis-server (commands per decision "
        "are then not counted: MONITOR would see other clients)",
    )
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="measure nothing: write the report, charts and doc section again from the "
        "latest.json of an earlier run",
    )
    return parser.parse_args(argv)


def reachable_redis(url: str | None) -> str | None:
    if url is None:
        return None
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
        client.close()
    except redis.RedisError as error:
        print(f"Redis at {url} is not reachable ({error}); skipping its workloads")
        return None
    return url


def reachable_postgres(url: str) -> str | None:
    try:
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.Error as error:
        print(f"PostgreSQL at {url} is not reachable ({error}); skipping its workloads")
        return None
    return url


@contextmanager
def cleaned(services: Services) -> Iterator[Services]:
    """Drop whatever the run left on the servers: its keys, tables and functions."""
    try:
        yield services
    finally:
        if services.redis_url and not services.redis_private:
            client = redis.Redis.from_url(services.redis_url)
            for key in client.scan_iter(f"{services.namespace}*", count=1000):
                client.delete(key)
            client.close()
        if services.postgres_url:
            with psycopg.connect(services.postgres_url, autocommit=True) as conn:
                pattern = f"%{services.namespace}%"
                for (name,) in conn.execute(
                    "SELECT oid::regprocedure::text FROM pg_proc WHERE proname LIKE %s",
                    (pattern,),
                ).fetchall():
                    conn.execute(f"DROP FUNCTION IF EXISTS {name}")
                for (name,) in conn.execute(
                    "SELECT quote_ident(tablename) FROM pg_tables WHERE tablename LIKE %s",
                    (pattern,),
                ).fetchall():
                    conn.execute(f"DROP TABLE IF EXISTS {name}")


def main(argv: Sequence[str] | None = None) -> Run:
    args = parse(argv)
    run = Run.load(args.render) if args.render else measure(args)
    publish(run, args.out, refresh=not run.meta.get("quick", False) and args.out == RESULTS)
    return run


def measure(args: argparse.Namespace) -> Run:
    """Run the chosen workloads, printing where the run is as it goes."""
    settings = QUICK if args.quick else Settings()
    chosen = [w for w in args.workloads if w in WORKLOADS]
    started, load_before = time.perf_counter(), loadavg()
    rows: list[Row] = []
    with ExitStack() as stack:
        redis_url, private = args.redis_url, False
        if redis_url is None and any(WORKLOADS[w][1] != "memory" for w in chosen):
            redis_url = stack.enter_context(private_redis())
            private = redis_url is not None
        services = Services(
            reachable_redis(redis_url),
            private,
            reachable_postgres(args.postgres_url) if {"4", "5", "8"} & set(chosen) else None,
            f"bench_{uuid.uuid4().hex[:10]}",
        )
        stack.enter_context(cleaned(services))
        print(f"{len(chosen)} workloads ({'quick' if args.quick else 'full'} counts), "
              f"results to {args.out}", flush=True)  # fmt: skip
        for step, number in enumerate(chosen, 1):
            workload, needs = WORKLOADS[number]
            head = f"[{step}/{len(chosen)}] workload {number} ({needs})"
            if (needs == "redis" and not services.redis_url) or (
                needs == "postgres" and not services.postgres_url
            ):
                print(f"{head}: skipped, no {needs} server", flush=True)
                continue
            print(f"{head}, at {elapsed(started)}: {measures(workload)}", flush=True)
            began = time.perf_counter()
            rows += workload(settings, services)
            print(f"{head}: done in {elapsed(began)}", flush=True)
    return Run(
        rows,
        {
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "versions": versions(),
            "load_before": load_before,
            "load_after": loadavg(),
            "seconds": time.perf_counter() - started,
            "many_keys": settings.many_keys,
            "processes": settings.processes,
            "quick": args.quick,
            "settings": settings.__dict__,
        },
    )


def publish(run: Run, out: Path, *, refresh: bool) -> None:
    """Write `run`'s report and charts into `out`, print its targets table, and with
    `refresh` put the report into docs/performance.md."""
    run.write(out)
    print("\n" + "\n".join(run.targets_table()), flush=True)
    verdicts = Counter(t.met for t in run.targets())
    print(f"targets: {verdicts[True]} met, {verdicts[False]} not met, "
          f"{verdicts[None]} not measured", flush=True)  # fmt: skip
    print(f"wrote {out}/latest.md, latest.json, latest.png")
    if refresh:
        refresh_doc(DOCS, run.markdown())
        print(f"refreshed the latest results in {DOCS}")


def measures(workload: Workload) -> str:
    """What a workload measures: the first sentence of its docstring (or its module's)."""
    text = workload.__doc__ or sys.modules[workload.__module__].__doc__ or ""
    sentence = " ".join(text.split(".")[0].split())
    return re.sub(r"^Workloads? [\d ,and]+[,:] *", "", sentence)


def elapsed(since: float) -> str:
    """The time since `since` (a `perf_counter` reading), for people: 7.2 s, 3 min 05 s."""
    seconds = time.perf_counter() - since
    return f"{seconds:.1f} s" if seconds < 60 else f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"


def loadavg() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def machine() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


if __name__ == "__main__":
    main()
