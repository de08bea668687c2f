"""`throttle simulate LIMIT… --traffic SPEC`: limits against a traffic pattern on a simulated
clock, summed up (and plotted with --plot)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from throttle_core.cli import traffic
from throttle_core.cli.common import parse_limit
from throttle_core.cli.simulation import Candidate, Run, Summary, candidates, simulate
from throttle_core.duration import parse_interval
from throttle_core.errors import ConfigError
from throttle_core.limits import POLICIES_FOR_STRINGS

DEFAULT_DURATION = 60.0
DESCRIPTION = """\
Run limits against a traffic pattern on a simulated clock (the real policies, in memory,
no waiting) and sum up what each did: requests accepted and refused, the longest run of
refusals one client met, and the most any client got through in a window of the limit's
length (where a fixed window's boundary lets a burst of twice its limit through).
Several limits, or one limit string under several --policy values, are simulated side by
side, which is how to choose between a token bucket, a fixed and a sliding window."""
EPILOG = (
    'LIMIT is a limit string ("10/second", "10/second;100/minute" for a compound limit)\n'
    "read with --policy, or a JSON config: an object, or an array of objects (compound).\n\n"
    + traffic.GRAMMAR
    + """

The simulated clock starts at 0 s on a window boundary: a clock-aligned window of
I seconds opens at 0, I, 2I...

examples:
  throttle simulate 10/second --traffic steady:20/s --duration 10s
  throttle simulate 100/minute --policy all --traffic 'poisson:2/s+burst:60@30s' \\
      --plot limits.png
  throttle simulate '{"policy": "fixed_window", "limit": 5, "interval": 10, \\
      "align": "first_hit"}' --traffic csv:requests.csv --json"""
)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "simulate",
        help="run limits against a traffic pattern on a simulated clock, optionally plotted",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "limits", metavar="LIMIT", nargs="+", type=parse_limit,
        help='a limit string ("10/second") or a JSON config; several are compared',
    )  # fmt: skip
    parser.add_argument(
        "--traffic", required=True, metavar="SPEC",
        help="the requests, e.g. steady:5/s, poisson:3/s, burst:20@10s, csv:FILE; join with +",
    )  # fmt: skip
    parser.add_argument(
        "--duration", metavar="TIME",
        help='how long to run ("60s", "5 minutes"; default 60 s, or to the end of a CSV)',
    )  # fmt: skip
    parser.add_argument(
        "--policy", default="sliding_window", metavar="POLICY[,POLICY...]",
        help=f"the policies of limit strings: {', '.join(POLICIES_FOR_STRINGS)}, or all "
        "(default sliding_window, as for limit strings everywhere)",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=int, default=0,
        help="seed of the Poisson draws without their own seed= (default 0)",
    )  # fmt: skip
    parser.add_argument(
        "--plot", metavar="FILE", type=Path,
        help="draw accepted and refused requests and the remaining capacity (.png or .svg; "
        "needs the plot extra)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(run=run, parser=parser)


def policies(text: str) -> list[str]:
    if text.strip() == "all":
        return list(POLICIES_FOR_STRINGS)
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in POLICIES_FOR_STRINGS]
    if unknown or not chosen:
        raise ConfigError(
            f"--policy {text!r}: use {', '.join(POLICIES_FOR_STRINGS)} (comma-separated) or all"
        )
    return chosen


def prepare(args: argparse.Namespace) -> tuple[list[Candidate], list[traffic.Pattern], float]:
    """Everything the command line says, validated: `ConfigError` names what is wrong."""
    chosen = policies(args.policy)
    found = [candidate for limit in args.limits for candidate in candidates(limit, chosen)]
    patterns = traffic.parse_traffic(args.traffic, args.seed)
    if args.duration is not None:
        duration = parse_interval(args.duration, "--duration")
    else:
        duration = traffic.recorded_span(patterns) or DEFAULT_DURATION
    if args.plot is not None and args.plot.suffix.lower() not in (".png", ".svg"):
        raise ConfigError(f"--plot {str(args.plot)!r}: name a .png or .svg file")
    return found, patterns, duration


def run(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    try:
        found, patterns, duration = prepare(args)
        requests = traffic.traffic_requests(patterns, duration)
    except ConfigError as error:
        parser.error(str(error))
    if args.plot is not None:
        from throttle_core.cli.plot import require_matplotlib

        require_matplotlib()
    runs = [simulate(candidate, requests, duration) for candidate in found]
    if args.plot is not None:
        from throttle_core.cli.plot import plot_runs

        plot_runs(runs, args.plot, f"{args.traffic} for {duration:g} s")
    if args.json:
        print(json.dumps(report(args.traffic, duration, runs), indent=2))
    else:
        print("\n".join(lines(args.traffic, duration, runs)))
        if args.plot is not None:
            print(f"\nplot written to {args.plot}")
    return 0


def report(spec: str, duration: float, runs: list[Run]) -> dict[str, Any]:
    return {
        "traffic": spec,
        "duration": duration,
        "runs": [
            {"label": r.candidate.label, "configs": list(r.candidate.configs),
             "summary": r.summary().to_dict()}
            for r in runs
        ],
    }  # fmt: skip


def _at(t: float) -> str:
    return f"{t:.6g} s"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def lines(spec: str, duration: float, runs: list[Run]) -> list[str]:
    first = runs[0].summary()
    out = [
        f"traffic {spec} for {_at(duration)}: {_plural(first.requests, 'request')} from "
        f"{_plural(first.keys, 'key')}"
    ]
    for run in runs:
        out += ["", run.candidate.label, *summary_lines(run.summary())]
    return out


def summary_lines(summary: Summary) -> list[str]:
    share = 100 * summary.accepted / summary.requests if summary.requests else 0.0
    first = summary.first_refusal
    rows = [
        ("accepted", f"{summary.accepted} ({share:.1f} %), {summary.tokens_admitted} tokens"),
        (
            "refused",
            f"{summary.refused}" + ("" if first is None else f", the first at {_at(first)}"),
        ),
    ]
    streak = summary.longest_refusal
    if streak is not None:
        span = _at(streak.start) if streak.start == streak.end else (
            f"from {_at(streak.start)} to {_at(streak.end)}"
        )  # fmt: skip
        rows.append(("longest refusal streak", f"{_plural(streak.requests, 'request')}, {span} "
                     f"(key {streak.key!r})"))  # fmt: skip
    for peak in summary.peaks:
        rows.append((
            f"most admitted in any {peak.window:g} s",
            f"{peak.admitted} (limit {peak.limit}), from {_at(peak.start)} (key {peak.key!r})",
        ))  # fmt: skip
    if summary.never_admissible:
        rows.append(("never admissible", f"{summary.never_admissible} (cost above the limit)"))
    width = max(len(label) for label, _ in rows)
    return [f"  {label:<{width}}  {value}" for label, value in rows]
