"""The benchmark harness runs: every installed adapter decides correctly, the chart is a valid
PNG, and a `--quick` run of all seven workloads writes a report with our rows in it. Peers are
installed by `make bench` only, so a peer's adapter is skipped when its library is missing."""

from __future__ import annotations

import json
import re
import shutil
import struct
import uuid
from pathlib import Path

import pytest

from benchmarks.__main__ import WORKLOADS, main
from benchmarks.adapters import ADAPTERS, OURS, Adapter, Backend
from benchmarks.chart import Panel, chart, colours, draw
from benchmarks.frameworks import APP_ADAPTERS, BASELINES, AppAdapter
from benchmarks.record import Row
from benchmarks.report import DOC_END, DOC_START, Run, refresh_doc
from benchmarks.services import CommandLog, free_port
from benchmarks.targets import FRAMEWORK_PEERS, GOALS, Goal, Target, judge
from benchmarks.timing import WALL
from benchmarks.workloads.frameworks import RATES, asgi_rate, wsgi_rate
from benchmarks.workloads.servers import load as load_of
from example_projects.server import serve
from tests.redis_support import delete_keys

DURATION = r"(\d+\.\d s|\d+ min \d\d s)"
"""A duration as the run prints it: 7.2 s, 3 min 05 s."""


def installed(adapter: Adapter | AppAdapter) -> Adapter | AppAdapter:
    if not adapter.available():
        pytest.skip(f"{adapter.library} is not installed (make bench installs it)")
    return adapter


@pytest.mark.parametrize(
    ("adapter", "algorithm"),
    [
        pytest.param(a, alg.name, id=f"{a.library}-{alg.name}")
        for a in ADAPTERS
        for alg in a.algorithms("memory")
    ],
)
def test_every_adapter_grants_exactly_the_limit_per_key(adapter: Adapter, algorithm: str) -> None:
    limiter = installed(adapter).make(algorithm, 3, 3600, Backend("memory"))  # type: ignore[union-attr]
    try:
        assert [limiter.hit("a") for _ in range(4)] == [True, True, True, False]
        assert limiter.hit("b")
    finally:
        limiter.close()


@pytest.mark.django_db  # Django's request signals check the database connections
@pytest.mark.parametrize("adapter", APP_ADAPTERS, ids=lambda a: f"{a.library}-{a.framework}")
def test_every_app_adapter_answers_200_while_under_its_limit(adapter: AppAdapter) -> None:
    app = installed(adapter).app(1000, 3600)  # type: ignore[union-attr]
    assert RATES[adapter.protocol](app, 20) > 0


@pytest.mark.redis
@pytest.mark.django_db
@pytest.mark.parametrize("adapter", APP_ADAPTERS, ids=lambda a: f"{a.library}-{a.framework}")
def test_every_app_adapter_counts_in_redis_under_the_namespace_it_is_given(
    adapter: AppAdapter, redis_url: str
) -> None:
    import redis

    namespace = f"bench_test_{uuid.uuid4().hex[:8]}"
    app = installed(adapter).app(1000, 3600, redis_url, namespace)  # type: ignore[union-attr]
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.keys(f"{namespace}*") == []
        assert RATES[adapter.protocol](app, 20, WALL) > 0
        assert client.keys(f"{namespace}*") != []
    finally:
        delete_keys(client, namespace)
        client.close()


@pytest.mark.django_db
@pytest.mark.parametrize("adapter", APP_ADAPTERS, ids=lambda a: f"{a.library}-{a.framework}")
def test_no_app_adapter_can_be_timed_while_its_redis_is_unreachable(adapter: AppAdapter) -> None:
    """A limiter that cannot reach its storage must never look fast: ours fails closed (503),
    the peers answer 500 or raise (slowapi's handler trips over the `ConnectionError`)."""
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    app = installed(adapter).app(1000, 3600, unreachable, "bench_test")  # type: ignore[union-attr]
    if adapter.library == OURS.library:
        with pytest.raises(RuntimeError, match=r"answered \[.?503"):
            RATES[adapter.protocol](app, 5, WALL)
        return
    with pytest.raises(Exception, match=r"answered \[.?50[03]|ConnectionError"):
        RATES[adapter.protocol](app, 5, WALL)


def test_the_drivers_refuse_to_time_an_app_that_refuses() -> None:
    ours = [a for a in APP_ADAPTERS if a.library == OURS.library]
    asgi = next(a for a in ours if a.protocol == "asgi")
    wsgi = next(a for a in ours if a.protocol == "wsgi")
    with pytest.raises(RuntimeError, match="429"):
        asgi_rate(asgi.app(10, 3600), 20)
    with pytest.raises(RuntimeError, match="429"):
        wsgi_rate(wsgi.app(10, 3600), 20)
    assert asgi_rate(BASELINES["starlette"](), 20) > 0
    assert wsgi_rate(BASELINES["flask"](), 20) > 0


def test_monitor_lines_split_client_commands_from_script_commands() -> None:
    log = CommandLog()
    log.add('+1700000000.1 [0 127.0.0.1:5000] "EVALSHA" "abc" "1" "k"')
    log.add('+1700000000.2 [0 lua] "GET" "k"')
    log.add('+1700000000.3 [0 lua] "SET" "k" "1"')
    assert dict(log.client) == {"EVALSHA": 1}
    assert dict(log.script) == {"GET": 1, "SET": 1}


def test_the_chart_is_a_png_of_its_panels_side_by_side() -> None:
    panel = Panel("One key", "decisions/s", ["a", "b"], {"ours": [2.0, 1.5], "peer": [1.0, None]})
    png = chart("TITLE", [panel, panel], colours(["ours", "peer"], "ours"), columns=2)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack("!II", png[16:24])
    assert width > 1.5 * height
    assert chart("TITLE", [], colours([], "ours"))[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_panel_draws_only_measured_bars_on_a_log_axis_when_values_differ_widely() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (near, far) = plt.subplots(1, 2)
    palette = colours(["ours", "peer"], "ours")
    draw(near, Panel("t", "u", ["a", "b"], {"ours": [20.0, 15.0], "peer": [10.0, None]},
                     [12.0, None], {"raw INCR": 30.0}), palette)  # fmt: skip
    draw(far, Panel("t", "µs", ["a"], {"ours": [5.0], "peer": [210.0]}, [8.0],
                    lower_is_better=True), palette)  # fmt: skip
    assert len(near.patches) == 3
    assert near.get_yscale() == "linear"
    assert far.get_yscale() == "log"
    assert [p.get_facecolor()[:3] for p in far.patches] == [
        matplotlib.colors.to_rgb(palette["ours"]),
        matplotlib.colors.to_rgb(palette["peer"]),
    ]
    assert "lower is better" in far.get_ylabel()
    plt.close(figure)


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db  # workload 6's Django site: its request signals check the connections
def test_a_quick_run_writes_every_section_with_our_rows(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shutil.which("redis-server"), "the benchmarks start a private redis-server"
    main(["--quick", "--out", str(tmp_path), "--postgres-url", postgres_url])
    assert_progress(capsys.readouterr().out.splitlines(), tmp_path)
    report = (tmp_path / "latest.md").read_text()
    for title in (
        "## 1.",
        "## 2.",
        "## 3.",
        "## 4.",
        "## 5.",
        "## 6.",
        "## 7.",
        "## 8.",
        "## Targets",
    ):
        assert title in report
    assert (tmp_path / "latest.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "latest-servers.png").read_bytes()[:4] == b"\x89PNG"
    rows = json.loads((tmp_path / "latest.json").read_text())["rows"]
    ours = {(r["workload"], r["policy"]) for r in rows if r["library"] == OURS.library}
    for workload in ("memory_one_key", "memory_many_keys", "redis", "postgres", "exactness"):
        for policy in ("token_bucket", "fixed_window", "sliding_window"):
            assert (workload, policy) in ours
    exact = [r for r in rows if r["workload"] == "exactness" and r["library"] == OURS.library]
    assert all(r["metrics"]["accepted"] == r["metrics"]["limit"] for r in exact)
    counted = [r for r in rows if r["workload"] == "redis" and r["library"] == OURS.library]
    assert all(r["metrics"]["client_commands"] == 1 for r in counted)
    served = {(r["library"], r["algorithm"]) for r in rows if r["workload"] == "servers"}
    assert {("none", "starlette"), (OURS.library, "starlette")} <= served
    in_process = {workload for _, workload, _ in FRAMEWORK_PEERS}
    overhead = {(r["workload"], r["library"], r["backend"]) for r in rows
                if r["workload"] in in_process}  # fmt: skip
    peers = {peer for *_, peer in FRAMEWORK_PEERS if installed_library(peer)}
    for _, workload, peer in FRAMEWORK_PEERS:
        for backend in ("memory", "redis"):
            assert {(workload, "none", backend), (workload, OURS.library, backend)} <= overhead
            assert ((workload, peer, backend) in overhead) == (peer in peers)
    targets = json.loads((tmp_path / "latest.json").read_text())["targets"]
    on_redis = next(t for t in targets if t["goal"].startswith("Frameworks on Redis"))
    assert (on_redis["met"] is None) == (not peers)


def installed_library(library: str) -> bool:
    return any(a.available() for a in APP_ADAPTERS if a.library == library)


def assert_progress(lines: list[str], out: Path) -> None:
    """The run said what it would do, then, for each workload in turn, what it measures and
    how far along the run is when it starts, and how long it took when done."""
    assert lines[0] == f"{len(WORKLOADS)} workloads (quick counts), results to {out}"
    at = 0
    for step, (number, (_, needs)) in enumerate(WORKLOADS.items(), 1):
        head = f"[{step}/{len(WORKLOADS)}] workload {number} ({needs})"
        start = next(i for i, line in enumerate(lines) if line.startswith(f"{head}, at "))
        assert start > at
        assert re.fullmatch(rf"{re.escape(head)}, at {DURATION}: \S.*", lines[start])
        done = next(i for i, line in enumerate(lines) if line.startswith(f"{head}: done in "))
        assert done > start
        assert re.fullmatch(rf"{re.escape(head)}: done in {DURATION}", lines[done])
        at = done
    assert any(re.fullmatch(r" +round 1/\d+ of \d+ contenders", line) for line in lines)


def test_the_doc_gets_the_latest_report_between_its_markers(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Perf\n\nbefore\n\n{DOC_START}\nold table\n{DOC_END}\nafter\n")
    refresh_doc(doc, "# Title\n\n## 1. One key\n\n| a |\n")
    assert doc.read_text() == (
        f"# Perf\n\nbefore\n\n{DOC_START}\n### 1. One key\n\n| a |\n\n{DOC_END}\nafter\n"
    )
    refresh_doc(doc, "# Title\n\n## 2. Again\n")
    assert "### 2. Again" in doc.read_text()
    assert "One key" not in doc.read_text()
    doc.write_text("no markers")
    with pytest.raises(ValueError, match="markers"):
        refresh_doc(doc, "# Title\n")


@pytest.mark.slow
@pytest.mark.redis
def test_the_load_generator_counts_every_answer_of_a_real_server() -> None:
    with serve("example_projects.asgi_app.app:app", env={"THROTTLE_LIMIT": "50/minute"}) as app:
        result = load_of(app.url + "/health", connections=4, seconds=5.0, requests=200)
    assert result["requests"] == 200
    assert result["statuses"] == {"200": 200}
    assert 0 < result["p50_ms"] <= result["p99_ms"]
    refusing = serve("example_projects.asgi_app.app:app", env={"THROTTLE_LIMIT": "5/minute"})
    with refusing as app, pytest.raises(RuntimeError, match="429"):
        load_of(app.url, connections=2, seconds=5.0, requests=20)


def test_every_goal_is_in_the_targets_table_met_not_met_or_not_measured() -> None:
    def row(library: str, policy: str, rate: float) -> Row:
        return Row("memory_one_key", library, policy, policy, "memory", {"decisions_per_s": rate})

    meta = {"versions": {}, "many_keys": 100_000}
    assert [t.met for t in Run([], meta).targets()] == [None] * len(GOALS)
    rows = [row(OURS.library, "token_bucket", 130.0), row("limits", "token_bucket", 100.0)]
    one_key = Run(rows, meta).targets()[0]
    assert one_key.goal == "In memory, one key: ≥ 1.2× the fastest peer, every policy"
    assert one_key.result == "token_bucket 1.30×, fixed_window —, sliding_window —"
    assert one_key.met is True
    rows[0].metrics["decisions_per_s"] = 110.0
    assert Run(rows, meta).targets()[0].met is False
    table = Run(rows, meta).targets_table()
    assert len(table) == 2 + len(GOALS) + 1
    assert "| In memory: ≤ 220 bytes per key, every policy | — | not measured |" in table
    assert judge(Goal("Nothing measures this"), Run(rows, meta)) == Target(
        "Nothing measures this", "—", None
    )
    tasks = Row("redis_tasks", OURS.library, "token_bucket", "token_bucket", "redis",
                {"decisions_per_s": 440.0})  # fmt: skip
    assert Run([*rows, tasks], meta).vs_workload("redis_tasks", "memory_one_key",
                                                 "token_bucket") == 4.0  # fmt: skip


def test_the_framework_goals_hold_ours_to_each_peer_on_the_storage_each_names() -> None:
    def row(library: str, backend: str, added: float) -> Row:
        return Row("asgi", library, "starlette", None, backend,
                   {"requests_per_s": 1.0, "added_us": added})  # fmt: skip

    rows = [row(OURS.library, "memory", 10.0), row("slowapi", "memory", 100.0),
            row(OURS.library, "redis", 50.0), row("slowapi", "redis", 100.0)]  # fmt: skip
    run = Run(rows, {"versions": {}, "many_keys": 100_000})
    found = {t.goal: t for t in run.targets()}
    assert found["ASGI: ≥ 3× lower added cost than slowapi"] == Target(
        "ASGI: ≥ 3× lower added cost than slowapi",
        "10.00× (ours 10.0 µs, slowapi 100.0 µs)",
        True,
    )
    on_redis = "Frameworks on Redis: each ≥ 3× lower added cost than its peer"
    assert found[on_redis] == Target(
        on_redis, "ASGI 2.00× (ours 50.0 µs, slowapi 100.0 µs); Django —; Flask —", False
    )
    panels = {p.title: p for p in run.panels()}
    assert panels["Framework overhead, in process"].series == {
        OURS.library: [10.0],
        "slowapi": [100.0],
    }
    assert panels["Framework overhead, limits on Redis"].series == {
        OURS.library: [50.0],
        "slowapi": [100.0],
    }
    assert panels["Framework overhead, limits on Redis"].targets[0] == pytest.approx(100.0 / 3)
    rows[2].metrics["added_us"] = 25.0
    assert {t.goal: t.met for t in Run(rows, run.meta).targets()}[on_redis] is True
