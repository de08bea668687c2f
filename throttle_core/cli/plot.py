"""Pictures of simulations: requests accepted and refused over time, and the remaining
capacity, one column per limit. matplotlib is imported only here, when a plot is asked for."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from throttle_core.cli.common import CommandError, missing_extra
from throttle_core.cli.simulation import Run

FORMATS = (".png", ".svg")
ACCEPTED, REFUSED, CAPACITY = "#2e8b57", "#d9534f", "#3465a4"


def require_matplotlib() -> Any:
    """matplotlib, or a `CommandError` naming the extra that installs it."""
    try:
        import matplotlib
    except ModuleNotFoundError as error:
        raise CommandError(f"plotting needs matplotlib: {missing_extra(error)}") from None
    return matplotlib


def bin_width(duration: float, bins: int = 60) -> float:
    """A round bin width (1, 2 or 5 times a power of ten) giving about `bins` bins."""
    rough = duration / bins
    power = 10 ** math.floor(math.log10(rough))
    return float(next(step * power for step in (1, 2, 5, 10) if step * power >= rough))


def counts(run: Run, width: float) -> tuple[list[float], list[int], list[int]]:
    """Bin starts and the requests accepted and refused in each bin."""
    bins = max(1, math.ceil(run.duration / width))
    accepted, refused = [0] * bins, [0] * bins
    for request, ok in run.decisions():
        index = min(int(request.time // width), bins - 1)
        (accepted if ok else refused)[index] += 1
    return [i * width for i in range(bins)], accepted, refused


def plot_runs(runs: Sequence[Run], path: Path, title: str) -> None:
    """Draw the runs side by side into `path` (.png or .svg)."""
    matplotlib = require_matplotlib()
    from matplotlib.figure import Figure

    width = bin_width(runs[0].duration)
    with matplotlib.rc_context({"svg.hashsalt": "throttle-suite", "font.size": 9}):
        figure = Figure(figsize=(4.4 * len(runs) + 0.8, 5.4), layout="constrained")
        axes = figure.subplots(
            2, len(runs), sharex=True, sharey="row", squeeze=False,
            gridspec_kw={"height_ratios": [3, 2]},
        )  # fmt: skip
        for column, run in enumerate(runs):
            summary = run.summary()
            top, bottom = axes[0][column], axes[1][column]
            starts, accepted, refused = counts(run, width)
            top.bar(starts, accepted, width, align="edge", color=ACCEPTED, label="accepted")
            top.bar(
                starts, refused, width, bottom=accepted, align="edge", color=REFUSED,
                label="refused",
            )  # fmt: skip
            top.set_title(
                f"{run.candidate.label}\naccepted {summary.accepted}, refused {summary.refused}"
            )
            limit = run.candidate.limit()
            if run.capacity and limit is not None:
                times, remaining = zip(*run.capacity, strict=True)
                bottom.step(times, remaining, where="post", color=CAPACITY)
                bottom.set_ylim(0, limit * 1.08)
            bottom.set_xlabel("time (s)")
            bottom.set_xlim(0, run.duration)
        axes[0][0].set_ylabel(f"requests per {width:g} s")
        axes[1][0].set_ylabel(f"remaining for {runs[0].capacity_key!r}")
        axes[0][0].legend(loc="upper right")
        figure.suptitle(title)
        metadata = {"Date": None} if path.suffix.lower() == ".svg" else {"Software": None}
        figure.savefig(path, metadata=metadata)
