"""The environment variables every example project reads, turned into the shared settings."""

from __future__ import annotations

import json

import pytest

from example_projects.environment import VARIABLES, throttle_settings
from throttle_core import ConfigError
from throttle_core.storage import ResilientStorage


def test_without_variables_the_projects_keep_their_defaults() -> None:
    assert throttle_settings({}) == {
        "LIMITS": [{"policy": "sliding_window", "id": "5-per-minute", "limit": 5, "interval": 60}],
        "HEADERS": ["ietf", "legacy"],
        "FAIL_OPEN": True,
        "TRUSTED_PROXIES": [],
        "KEY": "ip",
    }


def test_every_variable_sets_its_setting() -> None:
    rules = [{"limit": "3/minute", "paths": ["^/login$"], "id": "login"}]
    environ = {
        "THROTTLE_STORAGE_URL": "redis://127.0.0.1:6379/0?prefix=demo:",
        "THROTTLE_LIMIT": "10/second;1000/hour",
        "THROTTLE_POLICY": "token_bucket",
        "THROTTLE_RULES": json.dumps(rules),
        "THROTTLE_HEADERS": "draft-7, legacy",
        "THROTTLE_FAIL_OPEN": "false",
        "THROTTLE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8",
        "THROTTLE_PROXY_HEADER": "x-real-ip",
        "THROTTLE_KEY": "header:X-Api-Key",
    }
    settings = throttle_settings(environ)
    assert settings["STORAGE"] == environ["THROTTLE_STORAGE_URL"]
    assert [c["id"] for c in settings["LIMITS"]] == ["10-per-second", "1000-per-hour"]
    assert {c["policy"] for c in settings["LIMITS"]} == {"token_bucket"}
    assert settings["RULES"] == rules
    assert settings["HEADERS"] == ["draft-7", "legacy"]
    assert settings["FAIL_OPEN"] is False
    assert settings["TRUSTED_PROXIES"] == ["127.0.0.1", "10.0.0.0/8"]
    assert settings["PROXY_HEADER"] == "x-real-ip"
    assert settings["KEY"] == "header:X-Api-Key"
    assert set(environ) | {"THROTTLE_FALLBACK_URL", "THROTTLE_COOLDOWN"} == set(VARIABLES)


def test_a_fallback_makes_a_resilient_storage_and_an_empty_limit_none() -> None:
    settings = throttle_settings({
        "THROTTLE_STORAGE_URL": "redis://127.0.0.1:6379/0",
        "THROTTLE_FALLBACK_URL": "memory://",
        "THROTTLE_COOLDOWN": "1.5",
        "THROTTLE_LIMIT": "",
    })  # fmt: skip
    assert isinstance(settings["STORAGE"], ResilientStorage)
    assert settings["STORAGE"].cooldown == 1.5
    assert settings["LIMITS"] == []


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("THROTTLE_FAIL_OPEN", "maybe", "THROTTLE_FAIL_OPEN"),
        ("THROTTLE_RULES", "[{", "THROTTLE_RULES"),
        ("THROTTLE_RULES", '{"limit": "1/s"}', "THROTTLE_RULES"),
        ("THROTTLE_COOLDOWN", "soon", "THROTTLE_COOLDOWN"),
        ("THROTTLE_POLICY", "leaky", "leaky"),
    ],
)
def test_a_bad_value_is_a_config_error_naming_it(variable: str, value: str, named: str) -> None:
    environ = {variable: value, "THROTTLE_FALLBACK_URL": "memory://"}
    with pytest.raises(ConfigError, match=named):
        throttle_settings(environ)
