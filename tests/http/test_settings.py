"""Settings, one schema: upper-case keys, rules as dicts, unknown names refused with a hint."""

from __future__ import annotations

import inspect
import re
from typing import Any, get_type_hints

import pytest

from throttle_core import ConfigError, InMemoryStorage
from throttle_core.http import OPTION_NAMES, SETTING_NAMES, Options, Rule, read_settings
from throttle_core.http.options import VALIDATORS, OptionKeywords


def test_every_option_has_its_setting() -> None:
    assert list(SETTING_NAMES) == [name.upper() for name in OPTION_NAMES]
    assert SETTING_NAMES["TRUSTED_PROXIES"] == "trusted_proxies"


def test_the_option_names_agree_everywhere_they_are_written() -> None:
    names = set(OPTION_NAMES)
    assert set(VALIDATORS) == names
    assert set(Options.__slots__) - {"client"} == names
    assert set(inspect.signature(Options).parameters) == names
    assert set(get_type_hints(OptionKeywords)) == names
    assert set(Options.__annotations__) == names


def test_settings_give_the_same_options_as_keywords() -> None:
    storage = InMemoryStorage()
    settings = {
        "LIMITS": ["1000/hour"],
        "RULES": [
            {"limit": "5/minute", "paths": [r"^/login/$"], "methods": ["POST"], "id": "login"}
        ],
        "STORAGE": storage,
        "HEADERS": ["ietf", "legacy"],
        "TRUSTED_PROXIES": ["10.0.0.0/8"],
        "FAIL_OPEN": False,
        "KEY": "user",
        "ENABLED": True,
        "IPV6_PREFIX": 56,
        "PROXY_HEADER": "forwarded",
        "RESPONSE": "myproject.views.too_many",
    }
    found = read_settings(settings, extras=["RESPONSE"])
    assert found.extras == {"RESPONSE": "myproject.views.too_many"}
    options = found.options
    assert [rule.limit for rule in options.limits] == ["1000/hour"]
    assert isinstance(options.rules[0], Rule)
    assert repr(options.rules[0]) == (
        "Rule('5/minute', methods=['POST'], paths=['^/login/$'], id='login')"
    )
    assert options.storage is storage
    assert (options.headers, options.trusted_proxies) == (("ietf", "legacy"), ("10.0.0.0/8",))
    assert (options.fail_open, options.key, options.ipv6_prefix) == (False, "user", 56)
    assert options.proxy_header == "forwarded"
    again = Options(**options.keywords())
    assert again.keywords() == {**options.keywords(), "limits": again.limits, "rules": again.rules}


def test_a_prefix_reads_only_its_own_keys_and_overrides_win() -> None:
    config = {"SECRET_KEY": "x", "THROTTLE_LIMITS": "10/minute", "THROTTLE_HEADERS": "legacy"}
    options = read_settings(config, prefix="THROTTLE_", overrides={"headers": "draft-6"}).options
    assert [rule.limit for rule in options.limits] == ["10/minute"]
    assert options.headers == ("draft-6",)
    assert read_settings({}).options.keywords() == Options().keywords() | {"storage": None}


def test_a_framework_resolves_its_own_storage_names() -> None:
    made = InMemoryStorage()
    seen: list[Any] = []

    def storage(value: Any) -> Any:
        seen.append(value)
        return made if value in (None, "django://") else value

    assert read_settings({"STORAGE": "django://"}, storage=storage).options.storage is made
    assert read_settings({}, storage=storage).options.storage is made
    assert seen == ["django://", None]


@pytest.mark.parametrize(
    ("settings", "prefix", "message"),
    [
        ({"LIMTS": ["5/minute"]}, "", "unknown setting 'LIMTS'; did you mean 'LIMITS'?"),
        ({"THROTTLE_STORGE": "memory://"}, "THROTTLE_",
         "unknown setting 'THROTTLE_STORGE'; did you mean 'THROTTLE_STORAGE'?"),
        ({"limits": ["5/minute"]}, "", "unknown setting 'limits'; did you mean 'LIMITS'?"),
        ({"RULES": [{"limit": "5/minute", "path": "^/"}]}, "",
         "RULES: unknown rule field 'path'; did you mean 'paths'?"),
        ({"RULES": [{"limit": "5/minute", "exmpt": True}]}, "",
         "RULES: unknown rule field 'exmpt'; did you mean 'exempt'?"),
        ({"HEADERS": 5}, "", "HEADERS: headers must be a style or a list of styles, got 5"),
        ({"THROTTLE_FAIL_OPEN": "no"}, "THROTTLE_",
         "THROTTLE_FAIL_OPEN: fail_open must be True or False, got 'no'"),
        ({"LIMITS": None}, "", "LIMITS: limits must be a limit string"),
        ({"TRUSTED_PROXIES": ["10.0.0.1/8"]}, "", "TRUSTED_PROXIES: trusted_proxies entry"),
        ({"STORAGE": "mysql://db"}, "", "STORAGE: unsupported storage URL 'mysql://db'"),
    ],
)  # fmt: skip
def test_bad_settings_name_the_key(settings: dict[str, Any], prefix: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        read_settings(settings, prefix=prefix)


def test_an_unknown_override_is_refused() -> None:
    with pytest.raises(ConfigError, match=re.escape("unknown option 'limit'; did you mean")):
        read_settings({}, overrides={"limit": "5/minute"})  # type: ignore[arg-type]


def test_exempt_rules_come_from_settings_too() -> None:
    options = read_settings({"RULES": [{"exempt": True, "paths": ["^/health$"]}]}).options
    assert options.rules[0].exempt
