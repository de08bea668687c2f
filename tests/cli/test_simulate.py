"""`throttle simulate`: summaries checked against figures worked out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import run_json, run_throttle


def simulate(*args: str) -> list[dict[str, Any]]:
    """The summary of each limit simulated, by its label."""
    report = run_json("simulate", *args)
    return [run["summary"] | {"label": run["label"]} for run in report["runs"]]


def test_steady_two_per_second_against_one_per_second_fixed_window() -> None:
    # Requests at 0, 0.5, …, 9.5: each 1 s window [k, k+1) admits the one at k, refuses k+0.5.
    [run] = simulate("1/second", "--policy", "fixed_window", "--traffic", "steady:2/s",
                     "--duration", "10s")  # fmt: skip
    assert run["label"] == "1/second, fixed_window"
    assert (run["requests"], run["accepted"], run["refused"]) == (20, 10, 10)
    assert run["first_refusal"] == 0.5
    assert run["longest_refusal_streak"] == {
        "requests": 1, "start": 0.5, "end": 0.5, "key": "client"
    }  # fmt: skip
    [peak] = run["most_admitted_in_a_window"]
    assert (peak["window"], peak["limit"], peak["admitted"], peak["start"]) == (1.0, 1, 1, 0.0)


def test_a_burst_then_steady_requests_against_a_token_bucket() -> None:
    # Burst 5, 1 token/s. At 0: 5 of 8 pass. Then 2/s from 1 s to 5 s: the bucket has one
    # token at each whole second (1, 2, 3, 4) and none at the half seconds.
    [run] = simulate("5/5s", "--policy", "token_bucket", "--duration", "6s",
                     "--traffic", "burst:8@0s+steady:2/s,start=1s,end=5s")  # fmt: skip
    assert (run["requests"], run["accepted"], run["refused"]) == (16, 9, 7)
    assert run["longest_refusal_streak"]["requests"] == 3
    [peak] = run["most_admitted_in_a_window"]
    # The bucket's window is burst / rate = 5 s, and [0, 5) admits the burst and 4 refills.
    assert (peak["window"], peak["admitted"], peak["limit"]) == (5.0, 9, 5)


def test_fixed_window_boundary_lets_twice_the_limit_through_and_sliding_does_not() -> None:
    fixed, sliding = simulate(
        "10/second", "--policy", "fixed_window,sliding_window", "--duration", "3s",
        "--traffic", "burst:10@0.5s+burst:10@1.25s",
    )  # fmt: skip
    assert (fixed["accepted"], fixed["refused"]) == (20, 0)
    assert fixed["most_admitted_in_a_window"][0]["admitted"] == 20
    # At 1.25 s the estimate is floor(10 * 0.75 + current) = 7, 8, 9 for the first three of
    # the second burst (admitted), then 10: seven are refused.
    assert (sliding["accepted"], sliding["refused"]) == (13, 7)
    assert sliding["first_refusal"] == 1.25
    assert sliding["longest_refusal_streak"]["requests"] == 7
    assert sliding["most_admitted_in_a_window"][0]["admitted"] == 13


def test_sliding_window_refuses_at_the_infimum_of_its_wait() -> None:
    # At 1.5 s the estimate is floor(10 * 0.5 + current): 5 of the second burst pass, and the
    # sixth meets an estimate of 10, which refuses it (admitted at any moment after 1.5 s).
    [sliding] = simulate("10/second", "--duration", "3s",
                         "--traffic", "burst:10@0.5s+burst:10@1.5s")  # fmt: skip
    assert (sliding["accepted"], sliding["refused"]) == (15, 5)


def test_a_compound_limit_takes_nothing_when_one_member_refuses() -> None:
    # 2 per second and 3 per 10 s: 0, 0.5 and 1 pass; the 10 s limit refuses the rest.
    [run] = simulate("2/second;3/10s", "--policy", "fixed_window", "--duration", "10s",
                     "--traffic", "steady:2/s")  # fmt: skip
    assert (run["accepted"], run["refused"]) == (3, 17)
    assert run["longest_refusal_streak"] == {
        "requests": 17, "start": 1.5, "end": 9.5, "key": "client"
    }  # fmt: skip
    peaks = {p["name"]: (p["window"], p["admitted"]) for p in run["most_admitted_in_a_window"]}
    assert peaks == {"sim-2-per-second": (1.0, 2), "sim-3-per-10-seconds": (10.0, 3)}


RECORDED = """time,key,cost
100,alice,2
101,alice,2
102,bob,3
103,alice,1
104,bob,1
111,bob,1
"""


@pytest.mark.parametrize(
    "recording",
    [
        RECORDED,
        RECORDED.replace("time,key,cost\n", ""),
        "\n".join(
            f"2026-03-01T12:{int(line.split(',')[0]) - 100:02d}:00Z,{line.split(',', 1)[1]}"
            for line in RECORDED.splitlines()[1:]
        ),
    ],
    ids=["header", "no-header", "iso"],
)
def test_a_recorded_csv_with_keys_and_costs(tmp_path: Path, recording: str) -> None:
    path = tmp_path / "requests.csv"
    path.write_text(recording)
    spec = f"csv:{path}"
    if "2026" in recording:  # minutes apart instead of seconds: scale the limit to match
        [run] = simulate('{"policy": "fixed_window", "limit": 3, "interval": "10 minutes"}',
                         "--traffic", spec)  # fmt: skip
        window = 600.0
    else:
        [run] = simulate("3/10s", "--policy", "fixed_window", "--traffic", spec)
        window = 10.0
    # Shifted to 0 s: alice 2 (ok), alice 2 (refused: 4 > 3), bob 3 (ok), alice 1 (ok), bob 1
    # (refused), then bob 1 in the next window (ok). Bob gets 4 tokens in [2, 12): the fixed
    # window's boundary again.
    assert (run["requests"], run["accepted"], run["refused"], run["keys"]) == (6, 4, 2, 2)
    assert run["tokens_admitted"] == 7
    [peak] = run["most_admitted_in_a_window"]
    assert (peak["admitted"], peak["key"], peak["start"]) == (4, "bob", 2 * window / 10)


def test_a_csv_sets_the_duration_to_its_end(tmp_path: Path) -> None:
    path = tmp_path / "requests.csv"
    path.write_text(RECORDED)
    report = run_json("simulate", "3/10s", "--traffic", f"csv:{path}")
    assert report["duration"] == 12.0


def test_poisson_arrivals_are_seeded() -> None:
    args = ("5/second", "--traffic", "poisson:5/s", "--duration", "100s")
    first, again = simulate(*args), simulate(*args)
    assert first == again
    assert 400 <= first[0]["requests"] <= 600
    other = simulate(*args, "--seed", "7")
    assert other != first
    assert simulate("5/second", "--traffic", "poisson:5/s,seed=7", "--duration", "100s") == other


def test_requests_costing_more_than_the_limit_are_never_admitted() -> None:
    [run] = simulate("3/second", "--traffic", "steady:1/s,cost=5", "--duration", "5s")
    assert (run["accepted"], run["refused"], run["never_admissible"]) == (0, 5, 5)


def test_each_key_has_its_own_counter() -> None:
    [run] = simulate("2/minute", "--policy", "fixed_window", "--duration", "10s",
                     "--traffic", "burst:3@0s,key=a+burst:3@1s,key=b")  # fmt: skip
    assert (run["accepted"], run["refused"], run["keys"]) == (4, 2, 2)


def test_the_human_summary() -> None:
    done = run_throttle("simulate", "1/second", "--policy", "fixed_window", "--traffic",
                        "steady:2/s", "--duration", "10s")  # fmt: skip
    assert done.returncode == 0
    assert done.stdout.splitlines() == [
        "traffic steady:2/s for 10 s: 20 requests from 1 key",
        "",
        "1/second, fixed_window",
        "  accepted                  10 (50.0 %), 10 tokens",
        "  refused                   10, the first at 0.5 s",
        "  longest refusal streak    1 request, 0.5 s (key 'client')",
        "  most admitted in any 1 s  1 (limit 1), from 0 s (key 'client')",
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("steady", "is not KIND:ARGUMENT"),
        ("steady:fast", "takes a rate such as 5/s"),
        ("burst:20", "burst takes N@TIME"),
        ("burst:0@1s", "must be a whole number"),
        ("burst:5@soon", "is not a time"),
        ("steady:1/s,colour=red", "not an option of steady"),
        ("steady:1/s,cost=0", "must be a whole number"),
        ("csv:/nonexistent/requests.csv", "cannot read the traffic file"),
        ("steady:100000/s", "a simulation takes at most 2,000,000"),
    ],
)
def test_bad_traffic_is_a_usage_error(spec: str, message: str) -> None:
    done = run_throttle("simulate", "5/s", "--traffic", spec, "--duration", "60s")
    assert done.returncode == 2
    assert message in done.stderr


def test_bad_options_are_usage_errors() -> None:
    for args, message in [
        (["--policy", "leaky_bucket"], "--policy 'leaky_bucket'"),
        (["--duration", "0s"], "--duration must be a positive duration"),
        (["--plot", "out.jpg"], "name a .png or .svg file"),
    ]:
        done = run_throttle("simulate", "5/s", "--traffic", "steady:1/s", *args)
        assert done.returncode == 2, args
        assert message in done.stderr
