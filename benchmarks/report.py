"""Turns the rows of a run into `latest.md` (tables, ratios to the best peer, targets),
`latest.json` (everything, with the raw samples) and `latest.png` (the main ratios)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.adapters import ADAPTERS, MEMORY_POLICIES, OURS, PEERS, POLICIES
from benchmarks.chart import Bar, bar_chart
from benchmarks.record import Row
from benchmarks.served_chart import served_chart

DOC_START = "<!-- latest results: written by `make bench` -->"
DOC_END = "<!-- end of latest results -->"
OUR = OURS.library
RATE = "decisions_per_s"
PEER_NAMES = [peer.library for peer in PEERS]


@dataclass(frozen=True)
class Target:
    """One performance goal and how this run did: `met` None when it was not measured."""

    goal: str
    result: str
    met: bool | None


def rate(value: float) -> str:
    """Decisions (or requests) per second, short: 181.2k, 9.4k, 812."""
    return f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.0f}"


def ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def table(header: Sequence[str], lines: Iterable[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(line) + " |" for line in lines]
    return [*out, ""]


class Run:
    """The rows of one run, with the look-ups the tables and the targets need."""

    def __init__(self, rows: Sequence[Row], meta: dict[str, Any]) -> None:
        self.rows = list(rows)
        self.meta = meta

    def of(self, workload: str) -> list[Row]:
        return [row for row in self.rows if row.workload == workload]

    def policies(self, workload: str) -> list[str]:
        """Our policies compared in `workload` (GCRA is compared in memory only)."""
        found = {row.policy for row in self.of(workload)}
        return [p for p in MEMORY_POLICIES if p in found or p in POLICIES]

    def cell(self, workload: str, library: str, policy: str) -> Row | None:
        return next(
            (r for r in self.of(workload) if r.library == library and r.policy == policy), None
        )

    def best_peer(
        self, workload: str, policy: str, metric: str, lowest: bool = False
    ) -> Row | None:
        found = [
            r for r in self.of(workload)
            if r.library != OUR and r.policy == policy and metric in r.metrics
        ]  # fmt: skip
        pick = min if lowest else max
        return pick(found, key=lambda r: r.metrics[metric]) if found else None

    def vs_best(
        self, workload: str, policy: str, metric: str, lowest: bool = False
    ) -> float | None:
        """Ours / best peer (for `lowest` metrics, best peer / ours): above 1 is better."""
        ours, best = (
            self.cell(workload, OUR, policy),
            self.best_peer(workload, policy, metric, lowest),
        )
        if ours is None or best is None or metric not in ours.metrics:
            return None
        a, b = ours.metrics[metric], best.metrics[metric]
        return (b / a if a else None) if lowest else a / b

    def floor(self, workload: str, name: str) -> Row | None:
        return next(
            (r for r in self.of(workload) if r.library == "floor" and r.algorithm == name), None
        )

    def vs_floor(self, workload: str, policy: str, name: str) -> float | None:
        ours, floor = self.cell(workload, OUR, policy), self.floor(workload, name)
        if ours is None or floor is None:
            return None
        return ours.metrics["decisions_per_s"] / floor.metrics["decisions_per_s"]

    def policy_table(
        self, workload: str, metric: str, show: Callable[[float], str], lowest: bool = False
    ) -> list[str]:
        """One line per policy: ours and each peer's matching algorithm, then ours / best."""
        libraries = [OUR, *PEER_NAMES]
        lines = []
        for policy in self.policies(workload):
            cells = []
            for library in libraries:
                row = self.cell(workload, library, policy)
                cells.append(show(row.metrics[metric]) if row and metric in row.metrics else "—")
            lines.append([policy, *cells, ratio(self.vs_best(workload, policy, metric, lowest))])
        head = ["policy", *libraries, "best peer / ours" if lowest else "ours / best peer"]
        return table(head, lines)

    def algorithms_line(self, workload: str) -> str:
        """Which algorithm of each peer stands for each policy in a policy table."""
        names = []
        for library in PEER_NAMES:
            mapped = [
                f"{r.policy} = {r.algorithm}"
                for r in self.of(workload)
                if r.library == library and r.policy is not None and r.policy != r.algorithm
            ]
            if mapped:
                names.append(f"{library}: {', '.join(mapped)}")
        return ("Peer algorithms named differently: " + "; ".join(names) + ".") if names else ""

    def markdown(self) -> str:
        m = self.meta
        out = [
            "# throttle-suite and its peers, side by side",
            "",
            f"One run of `make bench` on {m['machine']}, {m['cpus']} cores, Python {m['python']}, "
            f"{m['date']}; load average {m['load_before']} before and {m['load_after']} after; "
            f"{m['seconds']:.0f} s in all. Versions: "
            + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
            + ". Each figure is the median of interleaved rounds: "
            f"{m['settings']['repeats']} in memory and for ASGI "
            f"({m['settings']['many_keys_repeats']} with many keys), "
            f"{m['settings']['server_repeats']} on Redis and PostgreSQL. "
            "The method is in docs/performance.md.",
            "",
        ]
        out += self.section_memory() + self.section_redis() + self.section_postgres()
        out += self.section_exactness() + self.section_asgi() + self.section_servers()
        out += self.section_targets()
        return "\n".join(out)

    def section_memory(self) -> list[str]:
        out: list[str] = []
        if self.of("memory_one_key"):
            out += [
                "## 1. One key, in memory (decisions per second, wall clock; every decision "
                "accepted)",
                "",
            ]
            out += self.policy_table("memory_one_key", "decisions_per_s", rate)
            out += [self.algorithms_line("memory_one_key"), ""]
            others = [r for r in self.of("memory_one_key") if r.policy is None]
            out += ["Per CPU second of the same samples (every thread of the process):", ""]
            out += self.policy_table("memory_one_key", "decisions_per_cpu_s", rate)
            out += ["Peer algorithms we do not offer, for reference:", ""]
            out += table(
                ["library", "algorithm", "decisions per second"],
                [[r.library, r.algorithm, rate(r.metrics["decisions_per_s"])] for r in others],
            )
        if self.of("memory_many_keys"):
            keys = self.meta["many_keys"]
            out += [
                f"## 2. {keys:,} distinct keys, in memory",
                "",
                "Decisions per second (wall clock) over two passes (first sight of each key, "
                "then again):",
                "",
            ]
            out += self.policy_table("memory_many_keys", "decisions_per_s", rate)
            out += ["Bytes held per key after one hit on each (tracemalloc):", ""]
            out += self.policy_table(
                "memory_many_keys", "bytes_per_key", lambda v: f"{v:.0f} B", lowest=True
            )
        return out

    def section_redis(self) -> list[str]:
        if not self.of("redis"):
            return []
        incr, evalsha = self.floor("redis", "INCR"), self.floor("redis", "EVALSHA")
        out = ["## 3. Redis, one connection (decisions/s)", ""]
        if incr and evalsha:
            out += [
                f"Floors on the same kind of connection: raw `INCR` "
                f"{rate(incr.metrics['decisions_per_s'])}/s, raw `EVALSHA` of a one-line INCR "
                f"script {rate(evalsha.metrics['decisions_per_s'])}/s.",
                "",
            ]
        lines = self.policy_table("redis", "decisions_per_s", rate)
        lines[0] += " ours / EVALSHA floor |"
        lines[1] += " --- |"
        for i, policy in enumerate(POLICIES):
            lines[2 + i] += f" {ratio(self.vs_floor('redis', policy, 'EVALSHA'))} |"
        out += [*lines, self.algorithms_line("redis"), ""]
        counted = [r for r in self.of("redis") if "client_commands" in r.metrics]
        if counted:
            out += ["Commands per decision (MONITOR on a private server):", ""]
            out += table(
                ["library", "algorithm", "sent by the client", "run inside scripts"],
                [
                    [r.library, r.algorithm,
                     f"{r.metrics['client_commands']:g} ({r.note})",
                     f"{r.metrics['script_commands']:g}"]
                    for r in counted
                ],
            )  # fmt: skip
        if self.of("redis_tasks"):
            out += [
                "",
                "Under concurrency (decisions/s): 64 asyncio tasks on one client, each library's "
                "asyncio API; the last column divides ours by ours awaited one at a time.",
                "",
            ]
            lines = self.policy_table("redis_tasks", "decisions_per_s", rate)
            lines[0] += " ours / ours one at a time | ours, 8 threads on one sync client |"
            lines[1] += " --- | --- |"
            for i, policy in enumerate(POLICIES):
                threads = self.cell("redis_threads", OUR, policy)
                lines[2 + i] += (
                    f" {ratio(self.own_ratio('redis_tasks', 'redis_await', policy))} |"
                    f" {rate(threads.metrics['decisions_per_s']) if threads else '—'} |"
                )
            out += [*lines, ""]
        return out

    def own_ratio(self, workload: str, alone: str, policy: str) -> float | None:
        """Ours in `workload` over ours in `alone` (the same call, one at a time)."""
        many, one = self.cell(workload, OUR, policy), self.cell(alone, OUR, policy)
        if not many or not one:
            return None
        return many.metrics["decisions_per_s"] / one.metrics["decisions_per_s"]

    def section_postgres(self) -> list[str]:
        rows = self.of("postgres")
        if not rows:
            return []
        floor = self.floor("postgres", "UPSERT")
        base = floor.metrics["decisions_per_s"] if floor else None
        lines = [
            [
                f"{r.library} {r.algorithm}", rate(r.metrics["decisions_per_s"]),
                ratio(r.metrics["decisions_per_s"] / base if base else None),
                f"{r.metrics.get('statements', float('nan')):g}",
                f"{r.metrics.get('round_trips', float('nan')):g}",
            ]
            for r in rows
        ]  # fmt: skip
        out = ["## 4. PostgreSQL, one connection", ""]
        out += table(
            ["contender", "decisions/s", "vs UPSERT floor", "statements/decision",
             "round trips/decision"], lines,
        )  # fmt: skip
        if self.of("postgres_tasks"):
            out += [
                "",
                "Under concurrency: 32 asyncio tasks on one `AsyncConnection` against ours "
                "awaited one at a time on the same kind of connection (decisions/s):",
                "",
            ]
            out += table(
                ["policy", "32 tasks", "one at a time", "ratio"],
                [
                    [p, rate(many.metrics["decisions_per_s"]), rate(one.metrics["decisions_per_s"]),
                     ratio(self.own_ratio("postgres_tasks", "postgres_await", p))]
                    for p in POLICIES
                    if (many := self.cell("postgres_tasks", OUR, p))
                    and (one := self.cell("postgres_await", OUR, p))
                ],
            )  # fmt: skip
        if not self.cell("postgres", OUR, "token_bucket"):
            out += ["throttle-suite's PostgresStorage was not available in this run.", ""]
        return out

    def section_exactness(self) -> list[str]:
        rows = self.of("exactness") + self.of("flood")
        if not rows:
            return []
        out = [
            f"## 5. Exactness: {self.meta['processes']} processes on one key, starting together",
            "",
            "`exactness`: the limit is far below the attempts, and exactly the limit must be "
            "accepted. `flood`: the limit is far above them, and every attempt must be "
            "(contention must never turn into refusals).",
            "",
        ]
        lines = []
        for r in rows:
            want = r.metrics["limit"] if r.workload == "exactness" else r.metrics["attempts"]
            got = r.metrics["accepted"]
            verdict = (
                f"{got - want:+.0f}"
                if got != want
                else ("exact" if r.workload == "exactness" else "all accepted")
            )
            lines.append([
                r.workload, r.backend, r.policy or "", f"{r.library} {r.algorithm}",
                f"{r.metrics['limit']:.0f}", f"{r.metrics['attempts']:.0f}", f"{got:.0f}",
                verdict + (f" ({r.note})" if r.note else ""),
            ])  # fmt: skip
        out += table(
            ["check", "backend", "policy", "library", "limit", "attempts", "accepted", "result"],
            lines,
        )
        return out

    def section_asgi(self) -> list[str]:
        rows = self.of("asgi") + self.of("wsgi") + self.of("django")
        if not rows:
            return []
        out = [
            "## 6. Framework overhead: hello-world route called in-process (raw ASGI or WSGI "
            "loop, CPU time)",
            "",
        ]
        lines = [
            [r.algorithm, r.library, rate(r.metrics["requests_per_s"]),
             f"{r.metrics['added_us']:.1f} µs" if "added_us" in r.metrics else "baseline"]
            for r in rows
        ]  # fmt: skip
        head = ["framework", "library", "requests per CPU second", "added per request"]
        return out + table(head, lines)

    def ours(self, workload: str, metric: str) -> dict[str, float | None]:
        """Our `metric` per policy in `workload` (None where it was not measured)."""
        found: dict[str, float | None] = {}
        for policy in self.policies(workload):
            row = self.cell(workload, OUR, policy)
            found[policy] = row.metrics.get(metric) if row else None
        return found

    def section_servers(self) -> list[str]:
        rows = self.of("servers")
        if not rows:
            return []
        base = {r.algorithm: r for r in rows if r.library == "none"}
        out = [
            "## 7. Served: hello world on a real server, limits on Redis (load from a second "
            f"process; {rows[0].note}; chart: latest-servers.png)",
            "",
        ]
        lines = []
        for r in rows:
            plain = base.get(r.algorithm)
            share = (
                "baseline"
                if r.library == "none" or plain is None
                else f"{r.metrics['requests_per_s'] / plain.metrics['requests_per_s']:.2f}×"
            )
            lines.append([
                r.algorithm, "no limiter" if r.library == "none" else r.library,
                rate(r.metrics["requests_per_s"]), f"{r.metrics['p50_ms']:.2f} ms",
                f"{r.metrics['p99_ms']:.2f} ms", share,
            ])  # fmt: skip
        head = ["framework", "library", "requests/s", "p50", "p99", "requests/s vs no limiter"]
        return out + table(head, lines)

    def targets(self) -> list[Target]:
        """The performance goals, goal by goal."""
        found = [
            per_policy(
                "In memory, one key: ≥ 1.2× the fastest peer per policy",
                {
                    p: self.vs_best("memory_one_key", p, "decisions_per_s")
                    for p in self.policies("memory_one_key")
                },
                ratio, lambda v: v >= 1.2,
            ),
            per_policy(
                "In memory, 100k keys: ≥ 1.2× the fastest peer per policy",
                {
                    p: self.vs_best("memory_many_keys", p, "decisions_per_s")
                    for p in self.policies("memory_many_keys")
                },
                ratio, lambda v: v >= 1.2,
            ),
            per_policy(
                "In memory: ≤ 220 bytes per key",
                self.ours("memory_many_keys", "bytes_per_key"),
                lambda v: f"{v:.0f} B", lambda v: v <= 220,
            ),
        ]  # fmt: skip
        sent = [r for r in self.of("redis") if r.library == OUR and "client_commands" in r.metrics]
        found.append(
            Target(
                "Redis: exactly one command (EVALSHA) per decision",
                ", ".join(f"{r.policy} {r.metrics['client_commands']:g} ({r.note})" for r in sent),
                all(r.metrics["client_commands"] == 1 and r.note == "EVALSHA" for r in sent)
                if sent
                else None,
            )
        )
        found += [
            per_policy(
                "Redis: ≥ 1.1× the best peer per policy",
                {p: self.vs_best("redis", p, "decisions_per_s") for p in POLICIES},
                ratio, lambda v: v >= 1.1,
            ),
            per_policy(
                "Redis: ≥ 0.9× a raw EVALSHA loop",
                {p: self.vs_floor("redis", p, "EVALSHA") for p in POLICIES},
                ratio, lambda v: v >= 0.9,
            ),
            per_policy(
                "Redis, 64 asyncio tasks: ≥ 3× the best peer's asyncio API",
                {p: self.vs_best("redis_tasks", p, "decisions_per_s") for p in POLICIES},
                ratio, lambda v: v >= 3,
            ),
            per_policy(
                "Redis, 64 asyncio tasks: ≥ 3× ours awaited one at a time",
                {p: self.own_ratio("redis_tasks", "redis_await", p) for p in POLICIES},
                ratio, lambda v: v >= 3,
            ),
            per_policy(
                "PostgreSQL: ≤ 2 statements per decision",
                self.ours("postgres", "statements"),
                lambda v: f"{v:g}", lambda v: v <= 2,
            ),
            per_policy(
                "PostgreSQL: ≥ 0.6× a raw single-row UPSERT loop",
                {p: self.vs_floor("postgres", p, "UPSERT") for p in POLICIES},
                ratio, lambda v: v >= 0.6,
            ),
            per_policy(
                "PostgreSQL, 32 asyncio tasks: ≥ 2× ours awaited one at a time",
                {p: self.own_ratio("postgres_tasks", "postgres_await", p) for p in POLICIES},
                ratio, lambda v: v >= 2,
            ),
        ]  # fmt: skip
        flood = [r for r in self.of("flood") if r.library == OUR]
        found.append(counted("PostgreSQL: contention never turns into refusals", flood, "attempts"))
        exact = [r for r in self.of("exactness") if r.library == OUR]
        found.append(
            counted("Exactness: accepted == limit for every policy and backend", exact, "limit")
        )
        cost = {
            r.library: r.metrics["added_us"] for r in self.of("asgi") if "added_us" in r.metrics
        }
        ours = cost.pop(OUR, None)
        found.append(
            Target(
                "ASGI: ≤ 15 µs added per request (in-memory storage)",
                "—" if ours is None else f"{ours:.1f} µs",
                None if ours is None else ours <= 15,
            )
        )
        found.append(
            Target(
                "Framework overhead lower than the matching peer",
                ", ".join(f"{k} {v:.1f} µs" for k, v in cost.items()) or "—",
                None if ours is None or not cost else all(ours < v for v in cost.values()),
            )
        )
        flask = {
            r.library: r.metrics["added_us"] for r in self.of("wsgi") if "added_us" in r.metrics
        }
        ours = flask.get(OUR)
        found.append(
            Target(
                "Flask: ≤ 25 µs added per request (in-memory storage)",
                "—" if ours is None else f"{ours:.1f} µs",
                None if ours is None else ours <= 25,
            )
        )
        lower = self.framework_ratio("wsgi", "flask-limiter")
        found.append(
            Target(
                "Flask: ≥ 3× lower added cost than Flask-Limiter",
                "—"
                if lower is None
                else f"{lower:.2f}× (Flask-Limiter {flask['flask-limiter']:.1f} µs)",
                None if lower is None else lower >= 3,
            )
        )
        django = {
            r.library: r.metrics["added_us"] for r in self.of("django") if "added_us" in r.metrics
        }
        ours = django.get(OUR)
        found.append(
            Target(
                "Django: ≤ 15 µs added per request (in-memory storage)",
                "—" if ours is None else f"{ours:.1f} µs",
                None if ours is None else ours <= 15,
            )
        )
        lower = self.framework_ratio("django", "django-ratelimit")
        found.append(
            Target(
                "Django: ≥ 4× lower added cost than django-ratelimit",
                "—"
                if lower is None
                else f"{lower:.2f}× (django-ratelimit {django['django-ratelimit']:.1f} µs)",
                None if lower is None else lower >= 4,
            )
        )
        return found

    def section_targets(self) -> list[str]:
        marks = {True: "met", False: "**not met**", None: "not measured"}
        out = ["## Targets", ""]
        return out + table(
            ["goal", "this run", "verdict"],
            [[t.goal, t.result, marks[t.met]] for t in self.targets()],
        )

    def bars(self) -> list[Bar]:
        """The main ratios: ours against the best peer and against the raw floors."""
        short = {
            "token_bucket": "bucket", "fixed_window": "fixed", "sliding_window": "sliding",
            "gcra": "gcra",
        }  # fmt: skip
        found: list[tuple[str, float | None, float | None]] = []
        for p in self.policies("memory_one_key"):
            found.append((f"1 one key {short[p]}", self.vs_best("memory_one_key", p, RATE), 1.2))
        for p in self.policies("memory_many_keys"):
            found.append(
                (f"2 100k keys {short[p]}", self.vs_best("memory_many_keys", p, RATE), 1.2)
            )
        for p in POLICIES:
            found.append((f"3 redis/peer {short[p]}", self.vs_best("redis", p, RATE), None))
        for p in POLICIES:
            found.append((f"3 redis/EVALSHA {short[p]}", self.vs_floor("redis", p, "EVALSHA"), 0.9))
        for p in POLICIES:
            found.append((f"4 pg/UPSERT {short[p]}", self.vs_floor("postgres", p, "UPSERT"), 0.5))
        for row in self.of("asgi"):
            if "added_us" in row.metrics and row.library != OUR:
                found.append(
                    (f"6 asgi {row.library}/ours", self.framework_ratio("asgi", row.library), 1.0)
                )
        for row in self.of("wsgi"):
            if "added_us" in row.metrics and row.library != OUR:
                lower = self.framework_ratio("wsgi", row.library)
                found.append((f"6 flask {row.library}/ours", lower, 3.0))
        for row in self.of("django"):
            if "added_us" in row.metrics and row.library != OUR:
                lower = self.framework_ratio("django", row.library)
                found.append((f"6 django {row.library}/ours", lower, 4.0))
        return [Bar(label, value, target) for label, value, target in found if value is not None]

    def framework_ratio(self, workload: str, peer: str) -> float | None:
        """The peer's added µs per request over ours in `workload` (above 1: ours costs
        less)."""
        cost = {r.library: r.metrics.get("added_us") for r in self.of(workload)}
        ours, theirs = cost.get(OUR), cost.get(peer)
        return theirs / ours if ours and theirs is not None else None

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "latest.md").write_text(self.markdown())
        data = {
            "meta": self.meta,
            "rows": [row.to_dict() for row in self.rows],
            "targets": [t.__dict__ for t in self.targets()],
        }
        (folder / "latest.json").write_text(json.dumps(data, indent=1) + "\n")
        legend = "BAR = OURS / BEST PEER, OR / RAW FLOOR; 6: PEER US / OUR US. RED = TARGET"
        (folder / "latest.png").write_bytes(
            bar_chart("THROTTLE-SUITE VS PEERS: RATIOS, HIGHER IS BETTER", self.bars(), legend)
        )
        if self.of("servers"):
            (folder / "latest-servers.png").write_bytes(served_chart(self.of("servers")))


def per_policy(
    goal: str,
    values: dict[str, float | None],
    show: Callable[[float], str],
    ok: Callable[[float], bool],
) -> Target:
    """A goal every policy must reach: met when all measured ones do."""
    result = ", ".join(f"{p} {'—' if v is None else show(v)}" for p, v in values.items())
    known = [v for v in values.values() if v is not None]
    return Target(goal, result, all(ok(v) for v in known) if known else None)


def counted(goal: str, rows: Sequence[Row], expected: str) -> Target:
    """A goal on accepted counts: every row must accept exactly its `expected` metric."""
    result = ", ".join(
        f"{r.backend} {r.policy} {r.metrics['accepted']:.0f}/{r.metrics[expected]:.0f}"
        for r in rows
    )
    met = all(r.metrics["accepted"] == r.metrics[expected] for r in rows) if rows else None
    return Target(goal, result or "—", met)


def refresh_doc(path: Path, markdown: str) -> None:
    """Put a run's report between the markers of `path` (docs/performance.md), its headings
    one level deeper and without its title, so the page always shows the latest table."""
    text = path.read_text()
    head, start, rest = text.partition(DOC_START)
    _, end, tail = rest.partition(DOC_END)
    if not start or not end:
        raise ValueError(f"{path} lacks the markers {DOC_START!r} and {DOC_END!r}")
    body = ["#" + line if line.startswith("#") else line for line in markdown.splitlines()[1:]]
    path.write_text(head + start + "\n" + "\n".join(body).strip("\n") + "\n\n" + end + tail)


def versions() -> dict[str, str]:
    return {a.library: a.version() for a in ADAPTERS if a.available()}
