"""Traffic patterns for `throttle simulate`: the SPEC grammar (`GRAMMAR`), read into
validated patterns and turned into timed requests."""

from __future__ import annotations

import csv
import math
import random
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

from throttle_core.duration import UNITS, Rate, parse_interval
from throttle_core.errors import ConfigError

GRAMMAR = """\
A SPEC is one or more patterns joined by "+"; each is KIND:ARGUMENT, then ",name=value"
options:
  steady:RATE      requests evenly spaced at RATE ("5/s", "100/minute", "1/2s")
  poisson:RATE     random (Poisson) arrivals averaging RATE; seed=N picks the draw
  burst:N@TIME     N requests at once at TIME ("20@10s"); every=INTERVAL repeats it
  csv:PATH         one request per row: time[,key[,cost]] (a header row naming the
                   columns time, key, cost is allowed); times are seconds or ISO 8601
                   datetimes, shifted so that the first request is at 0 s
Every kind takes key=TEXT (the client; default "client") and cost=N (tokens per
request, default 1); steady and poisson take start=TIME and end=TIME (default: the
whole run), csv takes start=TIME (where its first row lands). Times are seconds
("0", "2.5") or durations ("10s", "1.5 minutes")."""

DEFAULT_KEY = "client"
MAX_REQUESTS = 2_000_000
"""A simulation holds every request in memory; more than this is refused up front."""
KINDS = ("steady", "poisson", "burst", "csv")
OPTIONS = {
    "steady": {"key", "cost", "start", "end"},
    "poisson": {"key", "cost", "start", "end", "seed"},
    "burst": {"key", "cost", "every"},
    "csv": {"key", "cost", "start"},
}
_TIME = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*$")


class Request(NamedTuple):
    """One simulated request: when (seconds from the start), whose, and how many tokens."""

    time: float
    key: str
    cost: int


def parse_time(text: str, what: str) -> float:
    """Seconds from the start of the run: "0", "2.5", "10s", "1 minute" (never negative)."""
    match = _TIME.match(text)
    unit = match.group(2).lower() if match else ""
    if not match or (unit and unit not in UNITS):
        raise ConfigError(f"{what} {text!r} is not a time; write e.g. 0, 2.5, 10s, 1.5 minutes")
    return float(match.group(1)) * (UNITS[unit] if unit else 1.0)


def _count(text: str, what: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"{what} must be a whole number ≥ 1, got {text!r}")
    return int(text)


@dataclass(frozen=True)
class Pattern:
    """One pattern of a SPEC, validated; `requests(duration)` makes its requests."""

    kind: str
    argument: str
    options: dict[str, str]
    seed: int

    @property
    def key(self) -> str:
        return self.options.get("key", DEFAULT_KEY)

    @property
    def cost(self) -> int:
        return _count(self.options.get("cost", "1"), f"cost in {self}")

    def __str__(self) -> str:
        options = "".join(f",{name}={value}" for name, value in self.options.items())
        return f"{self.kind}:{self.argument}{options}"

    def span(self, duration: float) -> tuple[float, float]:
        start = parse_time(self.options.get("start", "0"), f"start in {self}")
        end = parse_time(self.options["end"], f"end in {self}") if "end" in self.options else None
        return start, duration if end is None else min(end, duration)

    def rate(self) -> float:
        """Requests per second of a steady or Poisson pattern."""
        try:
            return Rate.from_string(self.argument).tokens_per_second
        except ConfigError:
            raise ConfigError(
                f"{self.kind} takes a rate such as 5/s, 100/minute or 1/2s, got {self.argument!r}"
            ) from None

    def requests(self, duration: float) -> list[Request]:
        """Every request of this pattern in [0, duration)."""
        key, cost = self.key, self.cost
        if self.kind == "steady":
            start, end = self.span(duration)
            gap = 1.0 / self.rate()
            _check_size(self, (end - start) / gap)
            count = math.ceil((end - start) / gap) if end > start else 0
            times = (start + i * gap for i in range(count))
            return [Request(t, key, cost) for t in times if t < end]
        if self.kind == "poisson":
            start, end = self.span(duration)
            rate = self.rate()
            _check_size(self, (end - start) * rate)
            draw = random.Random(int(self.options.get("seed", self.seed))).expovariate
            out, t = [], start + draw(rate)
            while t < end:
                out.append(Request(t, key, cost))
                t += draw(rate)
            return out
        if self.kind == "burst":
            return self._burst(duration, key, cost)
        return read_csv(Path(self.argument), self, duration)

    def _burst(self, duration: float, key: str, cost: int) -> list[Request]:
        size_text, at, when = self.argument.partition("@")
        if not at:
            raise ConfigError(f"burst takes N@TIME such as 20@10s, got {self.argument!r}")
        size = _count(size_text, f"the size of {self}")
        first = parse_time(when, f"the time of {self}")
        every = self.options.get("every")
        period = parse_interval(every, f"every in {self}") if every is not None else None
        times = [first] if period is None else [
            first + i * period for i in range(max(0, math.ceil((duration - first) / period)))
        ]  # fmt: skip
        _check_size(self, size * len(times))
        return [Request(t, key, cost) for t in times if t < duration for _ in range(size)]


def _check_size(pattern: Pattern, count: float) -> None:
    if count > MAX_REQUESTS:
        raise ConfigError(
            f"{pattern} makes about {count:,.0f} requests; a simulation takes at most "
            f"{MAX_REQUESTS:,} (shorten --duration or lower the rate)"
        )


def parse_traffic(spec: str, seed: int = 0) -> list[Pattern]:
    """The patterns of a SPEC such as "steady:5/s+burst:20@10s" (see the module docstring);
    a Poisson pattern without its own seed draws with `seed` + its position."""
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError("the traffic spec is empty; write e.g. steady:5/s or burst:20@10s")
    patterns = []
    for index, part in enumerate(spec.split("+")):
        head, *extras = part.strip().split(",")
        kind, colon, argument = head.partition(":")
        kind = kind.strip().lower()
        if kind not in KINDS or not colon or not argument.strip():
            raise ConfigError(
                f"traffic pattern {part.strip()!r} is not KIND:ARGUMENT; kinds are "
                "steady:RATE, poisson:RATE, burst:N@TIME and csv:PATH"
            )
        options: dict[str, str] = {}
        for extra in extras:
            name, equals, value = extra.partition("=")
            name = name.strip().lower()
            if not equals or name not in OPTIONS[kind]:
                raise ConfigError(
                    f"{extra.strip()!r} in {part.strip()!r} is not an option of {kind}; "
                    f"it takes {', '.join(sorted(OPTIONS[kind]))} (as name=value)"
                )
            options[name] = value.strip()
        pattern = Pattern(kind, argument.strip(), options, seed + index)
        pattern.cost  # noqa: B018 - validated now, not at the first request
        if kind in ("steady", "poisson"):
            pattern.rate()
            pattern.span(math.inf)
        patterns.append(pattern)
    return patterns


def traffic_requests(patterns: list[Pattern], duration: float) -> list[Request]:
    """Every request of the patterns in [0, duration), in time order (a stable sort: at one
    instant, requests keep the order of their patterns)."""
    requests = [request for pattern in patterns for request in pattern.requests(duration)]
    if len(requests) > MAX_REQUESTS:
        raise ConfigError(
            f"the traffic makes {len(requests):,} requests; a simulation takes at most "
            f"{MAX_REQUESTS:,}"
        )
    requests.sort(key=lambda request: request.time)
    return requests


def recorded_span(patterns: list[Pattern]) -> float | None:
    """How long the CSV recordings run (their last request's time, plus one second), or None
    when the traffic has none: the run's length when no --duration is given."""
    ends = [max((r.time for r in read_csv(Path(p.argument), p, math.inf)), default=0.0)
            for p in patterns if p.kind == "csv"]  # fmt: skip
    return math.floor(max(ends)) + 1.0 if ends else None


def _timestamp(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is neither seconds nor an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def read_csv(path: Path, pattern: Pattern, duration: float) -> list[Request]:
    """The requests recorded in a CSV file, shifted so that the first lands at `start`."""
    try:
        with path.open(newline="", encoding="utf-8") as file:
            rows = [row for row in csv.reader(file) if row and any(cell.strip() for cell in row)]
    except OSError as error:
        raise ConfigError(f"cannot read the traffic file {str(path)!r}: {error}") from None
    columns, first_row = {"time": 0, "key": 1, "cost": 2}, 1
    if rows and not _is_time(rows[0][0]):
        first_row = 2
        header = [cell.strip().lower() for cell in rows.pop(0)]
        names = {"t": "time", "timestamp": "time"}
        columns = {names.get(name, name): i for i, name in enumerate(header)}
        if "time" not in columns:
            raise ConfigError(f"{path}: the header {header} names no time column")
    recorded = []
    for number, row in enumerate(rows, first_row):
        where = f"{path}, row {number}"
        cells = {name: row[i].strip() for name, i in columns.items() if i < len(row)}
        key = cells.get("key") or pattern.key
        cost = _count(cells["cost"], f"{where}: cost") if cells.get("cost") else pattern.cost
        recorded.append(Request(_timestamp(cells.get("time", ""), where), key, cost))
    _check_size(pattern, len(recorded))
    if not recorded:
        return []
    offset = parse_time(pattern.options.get("start", "0"), f"start in {pattern}")
    first = min(request.time for request in recorded)
    shifted = [r._replace(time=r.time - first + offset) for r in recorded]
    return [request for request in shifted if request.time < duration]


def _is_time(cell: str) -> bool:
    try:
        _timestamp(cell, "")
    except ConfigError:
        return False
    return True
