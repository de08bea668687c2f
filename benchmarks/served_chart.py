"""The chart of the served-app workload, drawn with matplotlib (the `plot` extra, part of
`dev`): per framework, requests/s of each contender, and its p50 and p99 latency."""

from __future__ import annotations

import io
from collections.abc import Sequence

from benchmarks.record import Row


def served_chart(rows: Sequence[Row]) -> bytes:
    """A PNG of `rows` (workload `servers`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r.algorithm}\n{'no limiter' if r.library == 'none' else r.library}" for r in rows]
    colors = ["#999999" if r.library == "none" else "#2e8b57" if r.library == "throttle-suite"
              else "#e67e22" for r in rows]  # fmt: skip
    width = max(11.0, 2.0 * len(rows))
    figure, (rate, latency) = plt.subplots(1, 2, figsize=(width, 4.4))
    positions = range(len(rows))
    rate.bar(positions, [r.metrics["requests_per_s"] for r in rows], color=colors)
    rate.set_xticks(list(positions), labels, fontsize=8)
    rate.set_ylabel("requests/s (median of rounds)")
    rate.set_title("Throughput, Redis storage")
    bar = 0.4
    latency.bar([p - bar / 2 for p in positions], [r.metrics["p50_ms"] for r in rows],
                bar, color=colors, label="p50")  # fmt: skip
    latency.bar([p + bar / 2 for p in positions], [r.metrics["p99_ms"] for r in rows],
                bar, color=colors, alpha=0.5, hatch="//", label="p99")  # fmt: skip
    latency.set_xticks(list(positions), labels, fontsize=8)
    latency.set_ylabel("latency, ms")
    latency.set_title("p50 (solid) and p99 (hatched)")
    note = rows[0].note if rows else ""
    figure.suptitle(f"Hello world on a real server, load from a second process ({note})")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=90)
    plt.close(figure)
    return out.getvalue()
