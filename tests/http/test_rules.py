"""Rules: validation, which requests they match, and the counters they use."""

from __future__ import annotations

from typing import Any

import pytest

from throttle_core import ConfigError
from throttle_core.http import WEBSOCKET, Rule


def test_a_limit_string_with_several_limits_gives_several_limits() -> None:
    rule = Rule("10/second;1000/hour")
    assert [c["id"] for c in rule.configs] == ["10-per-second", "1000-per-hour"]
    assert [c["limit"] for c in rule.configs] == [10, 1000]
    named = Rule("10/second;1000/hour", id="api")
    assert [c["id"] for c in named.configs] == ["api-10-per-second", "api-1000-per-hour"]
    assert named.counter_ids("ip") == ("api-10-per-second", "api-1000-per-hour")


def test_a_config_dict_is_named_by_its_id_the_rule_id_or_its_limit() -> None:
    bucket = {"policy": "token_bucket", "limit": 10, "rate": "1/second"}
    assert Rule(bucket).configs[0]["id"] == "10-per-10-seconds"
    assert Rule({**bucket, "id": "burst"}).configs[0]["id"] == "burst"
    assert Rule(bucket, id="burst").configs[0]["id"] == "burst"
    assert Rule({"policy": "no_limit"}).configs[0]["id"] == "no-limit"
    window = Rule({"policy": "fixed_window", "limit": 100, "interval": "1 hour"})
    assert window.configs[0] == {
        "policy": "fixed_window", "id": "100-per-hour", "limit": 100, "interval": 3600.0,
        "align": "clock",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "method", "path", "expected"),
    [
        (Rule("1/s"), "GET", "/anything", True),
        (Rule("1/s"), "DELETE", "/", True),
        (Rule("1/s"), WEBSOCKET, "/ws", False),
        (Rule("1/s", methods=["post"]), "POST", "/login", True),
        (Rule("1/s", methods="POST"), "GET", "/login", False),
        (Rule("1/s", methods=["GET", "WEBSOCKET"]), WEBSOCKET, "/ws", True),
        (Rule("1/s", paths=[r"^/login$"]), "GET", "/login", True),
        (Rule("1/s", paths=[r"^/login$"]), "GET", "/login/x", False),
        (Rule("1/s", paths=[r"/admin"]), "GET", "/v1/admin/users", True),
        (Rule("1/s", paths=[r"^/a", r"^/b"]), "GET", "/b/1", True),
        (Rule("1/s", paths=r"^/a"), "GET", "/c", False),
        (Rule(exempt=True, paths=[r"^/health$"]), "GET", "/health", True),
    ],
)
def test_matching(rule: Rule, method: str, path: str, expected: bool) -> None:
    assert rule.matches(method, path) is expected


def test_unnamed_rules_never_share_a_counter_and_always_compute_the_same_one() -> None:
    login = Rule("5/minute", paths=[r"^/login$"])
    signup = Rule("5/minute", paths=[r"^/signup$"])
    ids = {
        login.counter_ids("ip"),
        signup.counter_ids("ip"),
        login.counter_ids("user"),
        Rule("5/minute", paths=[r"^/login$"], cost=2).counter_ids("ip"),
        Rule("5/minute", paths=[r"^/login$"], methods=["POST"]).counter_ids("ip"),
        Rule("5/minute", paths=[r"^/login$"], namespace="/x").counter_ids("ip"),
    }
    assert len(ids) == 6
    again = Rule("5/minute", paths=[r"^/login$"]).counter_ids("ip")
    assert again == login.counter_ids("ip")
    assert again[0].startswith("5-per-minute~")


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "a rule needs a limit"),
        (("5/minute",), {"exempt": True}, "an exempt rule takes no limit, got '5/minute'"),
        (("5 a minute",), {}, "'5 a minute' is not a limit string"),
        ((5,), {}, "limit string or dict, got 5"),
        (({"policy": "leaky"},), {}, "policy must be one of"),
        (({"policy": "fixed_window", "limit": 5, "interval": 60, "id": "a"},), {"id": "b"},
         "the rule id 'b' and the limit's id 'a' differ"),
        (("5/minute",), {"id": ""}, "printable ASCII text, got ''"),
        (("5/minute",), {"id": "naïve"}, "printable ASCII text, got 'naïve'"),
        (("5/minute",), {"key": "cookie"}, "key must be a callable or one of"),
        (("5/minute",), {"methods": []}, "methods must be a non-empty list"),
        (("5/minute",), {"methods": ["GET /"]}, "'GET /' is not an HTTP method"),
        (("5/minute",), {"paths": ["(unclosed"]}, "'(unclosed' is not a regular expression"),
        (("5/minute",), {"cost": -1}, "cost must be an int ≥ 0, got -1"),
        (("5/minute",), {"cost": 1.5}, "cost must be an int ≥ 0, got 1.5"),
        (("5/minute;2/second",), {"cost": 3}, "cost 3 exceeds the limit 2 of '2-per-second'"),
        (("5/minute",), {"exempt": "yes"}, "exempt must be True or False"),
    ],
)  # fmt: skip
def test_bad_rules_are_refused_naming_the_bad_value(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        Rule(*args, **kwargs)


def test_repr_shows_the_definition() -> None:
    rule = Rule("5/minute", paths=[r"^/login$"], methods=["POST"], key="user", cost=2, id="x")
    assert repr(rule) == (
        "Rule('5/minute', key='user', methods=['POST'], paths=['^/login$'], cost=2, id='x')"
    )
    assert repr(Rule(exempt=True, paths="^/h")) == "Rule(exempt=True, paths=['^/h'])"
