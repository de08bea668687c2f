"""Charts of a run, drawn with matplotlib (the `plot` extra, part of `dev`): panels of grouped
bars, one group per policy or framework and one bar per library side by side, each library in
the same colour on every panel, a logarithmic axis where a panel's values span more than a
factor of 20, and a mark where each group's target lies."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

OURS_COLOUR = "#2e8b57"
BASELINE_COLOUR = "#9e9e9e"
PEER_COLOURS = ("#e67e22", "#3b6fb6", "#8e44ad", "#c0392b", "#16a085", "#7f6000")
LOG_SPAN = 20.0
"""A panel whose largest value is more than this many times its smallest gets a log axis."""


@dataclass(frozen=True)
class Panel:
    """One chart: `groups` along the x axis, and per series (a library, in legend order) one
    value per group (None: no bar). `targets` holds a value per group to mark (None: no mark);
    `lines` horizontal reference lines by label (the raw floors)."""

    title: str
    unit: str
    groups: Sequence[str]
    series: Mapping[str, Sequence[float | None]]
    targets: Sequence[float | None] = ()
    lines: Mapping[str, float] = field(default_factory=dict)
    lower_is_better: bool = False

    def values(self) -> list[float]:
        found = [v for values in self.series.values() for v in values if v is not None]
        return [v for v in found + list(self.lines.values()) if v > 0]


BASELINE = "no limiter"
"""The series name of an app measured without any limiter."""


def colours(libraries: Sequence[str], ours: str) -> dict[str, str]:
    """A colour per library, the same on every chart of a run: ours green, each peer its own
    (in the order given), and an app without a limiter grey."""
    peers = iter(PEER_COLOURS * (1 + len(libraries) // len(PEER_COLOURS)))
    palette = {name: OURS_COLOUR if name == ours else next(peers) for name in libraries}
    return {**palette, BASELINE: BASELINE_COLOUR}


def draw(axes: Any, panel: Panel, palette: Mapping[str, str]) -> None:
    """`panel` on matplotlib `axes`: in each group only the series that have a value, centred
    on the group, labelled with their value."""
    width = 0.8 / max(1, max(sum(v is not None for v in column) for column in _columns(panel)))
    for index, column in enumerate(_columns(panel)):
        present = [(name, v) for name, v in zip(panel.series, column, strict=True) if v is not None]
        start = index - width * (len(present) - 1) / 2
        for offset, (name, value) in enumerate(present):
            x = start + offset * width
            axes.bar(x, value, width * 0.92, color=palette[name], label=name)
            axes.annotate(
                _short(value), (x, value), ha="center", va="bottom", fontsize=7,
                xytext=(0, 2), textcoords="offset points",
            )  # fmt: skip
        target = panel.targets[index] if index < len(panel.targets) else None
        if target is not None:
            half = max(width * len(present), width) / 2 + 0.04
            axes.hlines(target, index - half, index + half, colors="#d62728", linewidth=2,
                        label="target")  # fmt: skip
    for (label, value), style in zip(panel.lines.items(), ("--", ":", "-."), strict=False):
        axes.axhline(value, color="#555555", linestyle=style, linewidth=1, label=label)
    values = panel.values()
    if values and max(values) / min(values) > LOG_SPAN:
        axes.set_yscale("log")
    better = "lower is better" if panel.lower_is_better else "higher is better"
    axes.set_title(panel.title, fontsize=10)
    axes.set_ylabel(f"{panel.unit} ({better})", fontsize=8)
    axes.set_xticks(range(len(panel.groups)), list(panel.groups), fontsize=8)
    axes.yaxis.set_major_formatter(lambda value, _: _short(value) if value > 0 else "0")
    axes.tick_params(axis="y", labelsize=7)
    axes.grid(axis="y", alpha=0.3)
    axes.margins(y=0.15)


def _columns(panel: Panel) -> list[list[float | None]]:
    """The values of each group, one per series."""
    return [
        [values[i] if i < len(values) else None for values in panel.series.values()]
        for i in range(len(panel.groups))
    ]


def _short(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000 and value % 1000 == 0:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"


def chart(
    title: str, panels: Sequence[Panel], palette: Mapping[str, str], columns: int = 3
) -> bytes:
    """The `panels` in a grid of `columns`, under `title`, each series in its `palette`
    colour, with one legend for every library and line shown; returns PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = max(1, math.ceil(len(panels) / columns))
    figure, grid = plt.subplots(rows, columns, figsize=(5.2 * columns, 3.8 * rows), squeeze=False)
    cells = [axes for row in grid for axes in row]
    for axes, panel in zip(cells, panels, strict=False):
        draw(axes, panel, palette)
    for axes in cells[len(panels) :]:
        axes.set_visible(False)
    legend: dict[str, Any] = {}
    for axes in cells[: len(panels)]:
        for handle, label in zip(*axes.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    if legend:
        figure.legend(legend.values(), legend.keys(), loc="lower center",
                      ncol=min(8, len(legend)), fontsize=8, frameon=False)  # fmt: skip
    else:
        figure.text(0.5, 0.5, "no workload of these charts ran", ha="center", va="center")
    figure.suptitle(title, fontsize=12)
    figure.tight_layout(rect=(0, 0.06, 1, 0.97))
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=90)
    plt.close(figure)
    return out.getvalue()
