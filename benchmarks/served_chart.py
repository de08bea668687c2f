"""The chart of the served-app workload: per framework, requests/s and the p50 and p99
latency of the app without a limiter, with ours and with the framework's peer, side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from benchmarks.chart import BASELINE, Panel, chart
from benchmarks.record import Row


def served_chart(rows: Sequence[Row], palette: Mapping[str, str]) -> bytes:
    """A PNG of `rows` (workload `servers`), each library in its `palette` colour."""
    frameworks = list(dict.fromkeys(r.algorithm for r in rows))
    libraries = list(dict.fromkeys(r.library for r in rows))

    def panel(metric: str, title: str, unit: str, lower_is_better: bool) -> Panel:
        cell = {(r.library, r.algorithm): r.metrics.get(metric) for r in rows}
        series = {
            BASELINE if library == "none" else library: [cell.get((library, f)) for f in frameworks]
            for library in libraries
        }
        return Panel(title, unit, frameworks, series, lower_is_better=lower_is_better)

    note = rows[0].note if rows else ""
    return chart(
        f"Hello world on a real server, limits on Redis, load from a second process ({note})",
        [
            panel("requests_per_s", "Throughput", "requests/s", False),
            panel("p50_ms", "Median latency", "p50, ms", True),
            panel("p99_ms", "Tail latency", "p99, ms", True),
        ],
        palette,
    )
