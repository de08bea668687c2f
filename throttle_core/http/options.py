"""The options every integration shares (`limits`, `rules`, `storage`, `headers`,
`trusted_proxies`, `fail_open`, `key`, `enabled`, `ipv6_prefix`, `proxy_header`): their
names, defaults and validation, written once. Integrations add only their own extras."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from throttle_core.errors import ConfigError
from throttle_core.factory import resolve_storage
from throttle_core.http.addresses import (
    DEFAULT_PROXY_HEADER,
    ClientAddress,
    ipv6_prefix_length,
    proxy_header_name,
    trusted_networks,
)
from throttle_core.http.headers import DEFAULT_STYLES, header_styles
from throttle_core.http.keys import KeySpec, check_key
from throttle_core.http.rules import Rule
from throttle_core.suggest import unknown_name

if TYPE_CHECKING:
    from typing_extensions import Unpack

LimitSpec = str | Mapping[str, Any] | Rule
"""One default limit: a limit string, a config dict, or a `Rule`."""
RuleSpec = Rule | Mapping[str, Any]
"""One rule: a `Rule`, or a dict of its keywords (as settings write it)."""


class ViewOptionKeywords(TypedDict, total=False):
    """The shared options but the rules themselves (`limits`, `rules`, `key`): what a
    limiter for one view's limits takes besides them (FastAPI's `RouteLimit`)."""

    storage: Any
    headers: str | Sequence[str] | None
    trusted_proxies: Iterable[str] | str
    fail_open: bool
    enabled: bool
    ipv6_prefix: int
    proxy_header: str


class OptionKeywords(ViewOptionKeywords, total=False):
    """The shared options as keyword arguments (every integration's constructor takes them)."""

    limits: Iterable[LimitSpec] | LimitSpec
    rules: Iterable[RuleSpec]
    key: KeySpec


OPTION_NAMES = (
    "limits",
    "rules",
    "storage",
    "headers",
    "trusted_proxies",
    "fail_open",
    "key",
    "enabled",
    "ipv6_prefix",
    "proxy_header",
)
"""The shared options' names, in the order the docs list them."""


def flag(value: object, name: str) -> bool:
    """`value` if it is a bool; `ConfigError` naming the option otherwise."""
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be True or False, got {value!r}")
    return value


def limit_rules(limits: object) -> tuple[Rule, ...]:
    """The rules of a `limits` option: one limit or a list (strings, config dicts, Rules)."""
    if isinstance(limits, str | Mapping | Rule):
        items: list[object] = [limits]
    elif isinstance(limits, Iterable) and not isinstance(limits, bytes):
        items = list(limits)
    else:
        raise ConfigError(
            "limits must be a limit string, a config dict, a Rule, or a list of them; "
            f"got {limits!r}"
        )
    rules = []
    for item in items:
        if isinstance(item, Rule):
            rules.append(item)
        elif isinstance(item, str | Mapping):
            rules.append(Rule(item))
        else:
            raise ConfigError(f"limits entries must be limit strings or config dicts, got {item!r}")
    return tuple(rules)


def rule_list(rules: object) -> tuple[Rule, ...]:
    """The rules of a `rules` option: `Rule`s or dicts of `Rule`'s keywords."""
    if not isinstance(rules, Iterable) or isinstance(rules, str | bytes | Mapping):
        raise ConfigError(
            f"rules must be a list of Rules or of dicts of Rule keywords, got {rules!r}"
        )
    found = []
    for rule in rules:
        if isinstance(rule, Rule):
            found.append(rule)
        elif isinstance(rule, Mapping):
            found.append(Rule.from_dict(rule))
        else:
            raise ConfigError(f"rules must be Rule objects or dicts of Rule keywords, got {rule!r}")
    return tuple(found)


def _storage(value: object) -> Any:
    return None if value is None else resolve_storage(value)


def _trusted(value: object) -> tuple[str, ...]:
    return tuple(str(network) for network in trusted_networks(value))


VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "limits": limit_rules,
    "rules": rule_list,
    "storage": _storage,
    "headers": header_styles,
    "trusted_proxies": _trusted,
    "fail_open": lambda value: flag(value, "fail_open"),
    "key": check_key,
    "enabled": lambda value: flag(value, "enabled"),
    "ipv6_prefix": ipv6_prefix_length,
    "proxy_header": proxy_header_name,
}
"""Each option's validation: its value in, the normalized value out (or a `ConfigError`)."""


def check_option(name: str, value: object) -> object:
    """`value` validated and normalized as the option `name`."""
    check = VALIDATORS.get(name)
    if check is None:
        raise unknown_name("option", name, OPTION_NAMES)
    return check(value)


class Options:
    """The shared options, validated: build one from keywords (`Options(limits=["100/hour"])`)
    or from settings (`read_settings`). Every value is checked here, at start-up; a bad one is a
    `ConfigError` naming the option and the value. The attributes hold the normalized values:
    `limits` and `rules` as `Rule`s, `storage` as an object (None: a private in-memory one),
    `headers` as a tuple of styles (empty for none), `trusted_proxies` as network texts, and
    `client`, the `ClientAddress` that finds the client key of `"ip"`."""

    __slots__ = (
        "client",
        "enabled",
        "fail_open",
        "headers",
        "ipv6_prefix",
        "key",
        "limits",
        "proxy_header",
        "rules",
        "storage",
        "trusted_proxies",
    )

    limits: tuple[Rule, ...]
    rules: tuple[Rule, ...]
    storage: Any
    headers: tuple[str, ...]
    trusted_proxies: tuple[str, ...]
    fail_open: bool
    key: KeySpec
    enabled: bool
    ipv6_prefix: int
    proxy_header: str

    def __init__(
        self,
        *,
        limits: Iterable[LimitSpec] | LimitSpec = (),
        rules: Iterable[RuleSpec] = (),
        storage: Any = None,
        headers: str | Sequence[str] | None = DEFAULT_STYLES,
        trusted_proxies: Iterable[str] | str = (),
        fail_open: bool = True,
        key: KeySpec = "ip",
        enabled: bool = True,
        ipv6_prefix: int = 64,
        proxy_header: str = DEFAULT_PROXY_HEADER,
    ) -> None:
        given = {
            "limits": limits,
            "rules": rules,
            "storage": storage,
            "headers": headers,
            "trusted_proxies": trusted_proxies,
            "fail_open": fail_open,
            "key": key,
            "enabled": enabled,
            "ipv6_prefix": ipv6_prefix,
            "proxy_header": proxy_header,
        }
        for name, value in given.items():
            setattr(self, name, VALIDATORS[name](value))
        self.client = ClientAddress(
            self.trusted_proxies, ipv6_prefix=self.ipv6_prefix, proxy_header=self.proxy_header
        )

    def keywords(self) -> OptionKeywords:
        """The options as keywords: `Options(**options.keywords())` gives the same options."""
        return {name: getattr(self, name) for name in OPTION_NAMES}  # type: ignore[return-value]

    def replace(self, **changes: Unpack[OptionKeywords]) -> Options:
        """These options with some changed (keywords given in code over settings)."""
        merged: dict[str, Any] = {**self.keywords(), **changes}
        return Options(**merged)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.keywords().items())
        return f"Options({shown})"
