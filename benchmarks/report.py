"""Turns the rows of a run into `latest.md` (tables, ratios to the best peer, the targets),
`latest.json` (everything, with the raw samples) and `latest.png` (every library side by
side, workload by workload)."""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.adapters import ADAPTERS, MEMORY_POLICIES, OURS, PEERS, POLICIES
from benchmarks.chart import Panel, chart, colours
from benchmarks.frameworks import APP_ADAPTERS
from benchmarks.record import Row
from benchmarks.served_chart import served_chart
from benchmarks.targets import (
    ADDED_US,
    BYTES_PER_KEY,
    FRAMEWORK_PEERS,
    GOALS,
    LOWER_THAN_PEER,
    MEMORY_VS_PEER,
    REDIS_VS_PEER,
    Target,
    judge,
)

DOC_START = "<!-- latest results: written by `make bench` -->"
DOC_END = "<!-- end of latest results -->"
OUR = OURS.library
RATE = "decisions_per_s"
PEER_NAMES = [peer.library for peer in PEERS]
NOT_LIBRARIES = {"none", "floor"}
"""Row libraries that are baselines, not libraries: an unlimited app, a raw server loop."""
FRAMEWORK_PANELS = {"asgi": "Starlette (ASGI)", "wsgi": "Flask", "django": "Django"}
"""The framework-overhead workloads, with the framework each one runs."""


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

    @classmethod
    def load(cls, path: Path) -> Run:
        """The run an earlier `write` saved as `path` (its latest.json)."""
        data = json.loads(path.read_text())
        return cls([Row.from_dict(row) for row in data["rows"]], data["meta"])

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

    def vs_workload(self, workload: str, other: str, policy: str) -> float | None:
        """Our decisions/s in `workload` over ours in `other` (64 tasks against one at a
        time, say), for `policy`."""
        ours, base = self.cell(workload, OUR, policy), self.cell(other, OUR, policy)
        if ours is None or base is None:
            return None
        return ours.metrics["decisions_per_s"] / base.metrics["decisions_per_s"]

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
            f"{m['seconds']:.0f} s in all. Versions: {self.versions_line()}. "
            "Each figure is the median of interleaved rounds: "
            f"{m['settings']['repeats']} in memory and for the frameworks "
            f"({m['settings']['many_keys_repeats']} with many keys), "
            f"{m['settings']['server_repeats']} on Redis and PostgreSQL. "
            "The method is in docs/performance.md.",
            "",
        ]
        out += self.section_targets()
        out += self.section_memory() + self.section_redis() + self.section_postgres()
        out += self.section_exactness() + self.section_asgi() + self.section_servers()
        out += self.section_django_storage()
        return "\n".join(out)

    def versions_line(self) -> str:
        """Every library that has a row in this run, ours first, then the frameworks."""
        known: dict[str, str] = self.meta["versions"]
        measured = {r.library for r in self.rows} - NOT_LIBRARIES
        if any(self.of(w) for w in (*FRAMEWORK_PANELS, "servers")):
            measured |= set(FRAMEWORKS)
        return ", ".join(f"{n} {v}" for n, v in known.items() if n in measured)

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
                    f" {ratio(self.vs_workload('redis_tasks', 'redis_await', policy))} |"
                    f" {rate(threads.metrics['decisions_per_s']) if threads else '—'} |"
                )
            out += [*lines, ""]
        return out

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
                     ratio(self.vs_workload("postgres_tasks", "postgres_await", p))]
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
            "loop; CPU time with the limits in memory, wall clock with them on Redis)",
            "",
        ]
        lines = [
            [r.algorithm, r.backend, r.library, rate(r.metrics["requests_per_s"]),
             f"{r.metrics['added_us']:.1f} µs" if "added_us" in r.metrics else "baseline"]
            for r in rows
        ]  # fmt: skip
        head = ["framework", "limits in", "library", "requests/s", "added per request"]
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

    def section_django_storage(self) -> list[str]:
        rows = self.of("django_storage")
        if not rows:
            return []
        found = {(r.algorithm, r.backend, r.policy): r.metrics["decisions_per_s"] for r in rows}

        def shown(storage: str, backend: str, policy: str) -> str:
            value = found.get((storage, backend, policy))
            return "—" if value is None else rate(value)

        lines = [
            [p, shown("ModelStorage", "postgres", p), shown("PostgresStorage", "postgres", p),
             ratio(self.model_vs_postgres(p)), shown("ModelStorage", "sqlite", p)]
            for p in POLICIES
        ]  # fmt: skip
        out = [
            "## 8. The Django database as storage (decisions/s, one connection each)",
            "",
            "`ModelStorage` on a PostgreSQL database migrated by Django, `PostgresStorage` on "
            "the same server, and `ModelStorage` on a SQLite file (its default journal, every "
            "decision a committed transaction).",
            "",
        ]
        head = ["policy", "ModelStorage, PostgreSQL", "PostgresStorage", "ratio",
                "ModelStorage, SQLite"]  # fmt: skip
        return out + table(head, lines)

    def model_vs_postgres(self, policy: str) -> float | None:
        """ModelStorage's decisions/s on PostgreSQL over PostgresStorage's, for `policy`."""
        found = {
            r.algorithm: r.metrics["decisions_per_s"]
            for r in self.of("django_storage")
            if r.backend == "postgres" and r.policy == policy
        }
        if "ModelStorage" not in found or not found.get("PostgresStorage"):
            return None
        return found["ModelStorage"] / found["PostgresStorage"]

    def targets(self) -> list[Target]:
        """Every goal, judged on this run."""
        return [judge(goal, self) for goal in GOALS]

    def section_targets(self) -> list[str]:
        return ["## Targets", "", *self.targets_table()]

    def targets_table(self) -> list[str]:
        marks = {True: "met", False: "**not met**", None: "not measured"}
        return table(
            ["goal", "this run", "verdict"],
            [[t.goal, t.result, marks[t.met]] for t in self.targets()],
        )

    def added_us(self, workload: str, library: str, backend: str = "memory") -> float | None:
        """The µs `library` adds per request in framework workload `workload`, its limits on
        `backend`."""
        row = next(
            (r for r in self.of(workload) if r.library == library and r.backend == backend), None
        )
        return row.metrics.get("added_us") if row else None

    def panels(self) -> list[Panel]:
        """The charts of latest.png: each workload's figures, every library side by side, with
        the mark each goal sets for ours."""
        keys = f"In memory, {self.meta['many_keys']:,} keys"
        found = [
            self.policy_panel("memory_one_key", "In memory, one key", "decisions per CPU second",
                              RATE, vs_best=MEMORY_VS_PEER),
            self.policy_panel("memory_many_keys", keys, "decisions per CPU second", RATE,
                              vs_best=MEMORY_VS_PEER),
            self.policy_panel("memory_many_keys", f"{keys}: bytes held", "bytes per key",
                              "bytes_per_key", ceiling=BYTES_PER_KEY),
            self.policy_panel("redis", "Redis, one connection", "decisions/s", RATE,
                              vs_best=REDIS_VS_PEER, floors=("INCR", "EVALSHA")),
            self.policy_panel("postgres", "PostgreSQL, one connection", "decisions/s", RATE,
                              floors=("UPSERT",)),
            self.framework_panel("memory"),
            self.framework_panel("redis"),
        ]  # fmt: skip
        return [panel for panel in found if panel is not None]

    def policy_panel(
        self,
        workload: str,
        title: str,
        unit: str,
        metric: str,
        *,
        vs_best: float | None = None,
        ceiling: float | None = None,
        floors: tuple[str, ...] = (),
    ) -> Panel | None:
        """One group per policy, one bar per library, marked at `vs_best` times the best
        peer's figure or at the `ceiling` ours must stay under (a lower-is-better metric)."""
        if not self.of(workload):
            return None
        series: dict[str, list[float | None]] = {}
        for library in (OUR, *PEER_NAMES):
            rows = [self.cell(workload, library, p) for p in POLICIES]
            values = [r.metrics.get(metric) if r else None for r in rows]
            if any(v is not None for v in values):
                series[library] = values
        marks: list[float | None] = []
        for policy in POLICIES:
            best = self.best_peer(workload, policy, metric)
            marks.append(vs_best * best.metrics[metric] if vs_best and best else ceiling)
        lines = {
            f"raw {name}": floor.metrics[RATE]
            for name in floors
            if (floor := self.floor(workload, name)) is not None
        }
        return Panel(title, unit, POLICIES, series, marks, lines, ceiling is not None)

    def framework_panel(self, backend: str) -> Panel | None:
        """Added µs per request with the limits on `backend`, one group per framework, ours
        beside its peer, marked where the goals put ours: its `ADDED_US` in memory,
        `LOWER_THAN_PEER` times under its peer on Redis."""
        workloads = [w for w in FRAMEWORK_PANELS if self.of(w)]
        libraries = list(dict.fromkeys(
            r.library for w in workloads for r in self.of(w)
            if r.backend == backend and "added_us" in r.metrics
        ))  # fmt: skip
        if not libraries:
            return None
        series = {lib: [self.added_us(w, lib, backend) for w in workloads] for lib in libraries}
        marks: list[float | None]
        if backend == "memory":
            title, marks = "Framework overhead, in process", [ADDED_US[w] for w in workloads]
        else:
            peers = {workload: peer for _, workload, peer in FRAMEWORK_PEERS}
            title = "Framework overhead, limits on Redis"
            marks = [
                None if (cost := self.added_us(w, peers[w], backend)) is None
                else cost / LOWER_THAN_PEER
                for w in workloads
            ]  # fmt: skip
        groups = [FRAMEWORK_PANELS[w] for w in workloads]
        return Panel(title, "µs added per request", groups, series, marks, lower_is_better=True)

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "latest.md").write_text(self.markdown())
        data = {
            "meta": self.meta,
            "rows": [row.to_dict() for row in self.rows],
            "targets": [t.__dict__ for t in self.targets()],
        }
        (folder / "latest.json").write_text(json.dumps(data, indent=1) + "\n")
        title = (
            f"throttle-suite and its peers, {self.meta['date']} (red: the goal for ours; "
            "dashed lines: raw server loops)"
        )
        libraries = [a.library for a in (*ADAPTERS, *APP_ADAPTERS)]
        palette = colours(list(dict.fromkeys(libraries)), OUR)
        (folder / "latest.png").write_bytes(chart(title, self.panels(), palette))
        if self.of("servers"):
            (folder / "latest-servers.png").write_bytes(served_chart(self.of("servers"), palette))


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


FRAMEWORKS = ("starlette", "fastapi", "flask", "django")
"""The frameworks whose versions the report names when a framework workload ran."""


def versions() -> dict[str, str]:
    """The version of every installed library `make bench` can measure (ours first), then
    of the frameworks."""
    libraries = [a.library for a in (*ADAPTERS, *APP_ADAPTERS) if a.available()]
    found = {name: importlib.metadata.version(name) for name in dict.fromkeys(libraries)}
    for name in FRAMEWORKS:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found
