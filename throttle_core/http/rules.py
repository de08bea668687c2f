"""Rules: a limit (a limit string or a config dict), the requests it covers, and how to key them."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from throttle_core.errors import ConfigError
from throttle_core.factory import build_policy, normalize_config
from throttle_core.http.keys import KeySpec, check_key, key_name
from throttle_core.http.request import WEBSOCKET
from throttle_core.limits import limit_name, parse_limits
from throttle_core.suggest import unknown_name

RULE_FIELDS = ("limit", "key", "methods", "paths", "cost", "id", "exempt")
"""What a rule written as a dict (a `RULES` entry in settings) may say: `Rule`'s keywords."""

_NAME = re.compile(r"[\x20-\x7e]+")
_METHOD = re.compile(r"[A-Z]+")


def _strings(value: Iterable[str] | str | None, field: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        items: tuple[Any, ...] = (value,)
    elif isinstance(value, Iterable) and not isinstance(value, bytes | Mapping):
        items = tuple(value)
    else:
        items = ()
    if not items or not all(isinstance(item, str) for item in items):
        raise ConfigError(f"{field} must be a non-empty list of strings, got {value!r}")
    return items


def _pattern(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as error:
        raise ConfigError(f"paths entry {text!r} is not a regular expression: {error}") from None


def _name(config: Mapping[str, Any]) -> str:
    policy = build_policy(normalize_config({**config, "id": "-"}))
    if policy is None:
        return "no-limit"
    return limit_name(policy.limit, policy.window_seconds())


class Rule:
    """A limit on every request it matches. `limit` is a limit string (several limits may be
    separated by ";") or a config dict; `methods` and `paths` (regexes, searched in the path)
    narrow the requests it covers (no `methods`: every HTTP method, no WebSocket unless named
    as "WEBSOCKET"); `key` says what to count by (None: the integration's `key`); `cost` is
    the tokens one request takes; `id` names the limit in headers and storage. An `exempt`
    rule has no limit: a request it matches is not limited at all."""

    __slots__ = (
        "configs",
        "cost",
        "exempt",
        "id",
        "key",
        "limit",
        "methods",
        "named",
        "namespace",
        "paths",
    )

    def __init__(
        self,
        limit: str | Mapping[str, Any] | None = None,
        *,
        key: KeySpec | None = None,
        methods: Iterable[str] | str | None = None,
        paths: Iterable[str] | str | None = None,
        cost: int = 1,
        id: str | None = None,
        exempt: bool = False,
        namespace: str = "",
    ) -> None:
        if id is not None and (not isinstance(id, str) or not _NAME.fullmatch(id)):
            raise ConfigError(f"a rule id must be printable ASCII text, got {id!r}")
        if not isinstance(exempt, bool):
            raise ConfigError(f"exempt must be True or False, got {exempt!r}")
        if exempt and limit is not None:
            raise ConfigError(f"an exempt rule takes no limit, got {limit!r}")
        if not exempt and limit is None:
            raise ConfigError("a rule needs a limit ('100/minute' or a config dict) or exempt=True")
        if not isinstance(namespace, str):
            raise ConfigError(f"namespace must be a string, got {namespace!r}")
        self.limit = limit
        self.id = id
        self.exempt = exempt
        self.namespace = namespace
        self.key = None if key is None else check_key(key)
        self.configs, self.named = self._configs(limit, id)
        methods = _strings(methods, "methods")
        self.methods = None if methods is None else frozenset(m.upper() for m in methods)
        for method in self.methods or ():
            if not _METHOD.fullmatch(method):
                raise ConfigError(f"methods entry {method!r} is not an HTTP method")
        self.paths = tuple(_pattern(p) for p in _strings(paths, "paths") or ())
        self.cost = self.checked_cost(cost)

    @staticmethod
    def _configs(
        limit: str | Mapping[str, Any] | None, id: str | None
    ) -> tuple[tuple[dict[str, Any], ...], bool]:
        if limit is None:
            return (), False
        if isinstance(limit, str):
            return tuple(parse_limits(limit, id=id)), id is not None
        if not isinstance(limit, Mapping):
            raise ConfigError(f"a rule's limit must be a limit string or dict, got {limit!r}")
        own = limit.get("id")
        if id is not None and own is not None and own != id:
            raise ConfigError(f"the rule id {id!r} and the limit's id {own!r} differ")
        name = id or own
        config = normalize_config({**limit, "id": name or _name(limit)})
        return (config,), name is not None

    def checked_cost(self, cost: object, function: object = None) -> int:
        """`cost` if one request may take it from this rule's limits, else a `ConfigError`
        (not an int ≥ 0, or above a limit: nothing could ever pass) naming the cost, or the
        cost `function` that returned it."""
        if function is None:
            wrong, over = f"cost must be an int ≥ 0, got {cost!r}", f"cost {cost} exceeds"
        else:
            said = f"the cost function {function!r} returned {cost!r}"
            wrong, over = f"{said}, not an int ≥ 0", f"{said}, above"
        if isinstance(cost, bool) or not isinstance(cost, int) or cost < 0:
            raise ConfigError(wrong)
        for config in self.configs:
            if config.get("limit", cost) < cost:
                raise ConfigError(
                    f"{over} the limit {config['limit']} of {config['id']!r}: "
                    "no request could ever pass"
                )
        return cost

    @classmethod
    def from_dict(cls, fields: Mapping[str, Any]) -> Rule:
        """The rule a dict of `Rule`'s keywords describes (`{"limit": "5/minute", "paths":
        [r"^/login/$"], "id": "login"}`); a field nobody knows is a `ConfigError` naming it."""
        for name in fields:
            if name not in RULE_FIELDS:
                raise unknown_name("rule field", name, RULE_FIELDS)
        return cls(**fields)

    def matches(self, method: str, path: str) -> bool:
        """Whether a request with this method and path falls under the rule."""
        if self.methods is None:
            if method == WEBSOCKET:
                return False
        elif method not in self.methods:
            return False
        return not self.paths or any(pattern.search(path) for pattern in self.paths)

    def counter_ids(self, key: KeySpec) -> tuple[str, ...]:
        """The config id each limit counts under. A named rule uses its names; an unnamed one
        adds a digest of its definition, so two unnamed rules never share a counter, while
        every worker and restart computes the same id."""
        if self.named:
            return tuple(config["id"] for config in self.configs)
        definition = json.dumps(
            [
                [{k: v for k, v in c.items() if k != "id"} for c in self.configs],
                key_name(key),
                sorted(self.methods or ()),
                [p.pattern for p in self.paths],
                self.cost,
                self.namespace,
            ],
            sort_keys=True,
        )
        digest = hashlib.sha256(definition.encode()).hexdigest()[:10]
        return tuple(f"{config['id']}~{digest}" for config in self.configs)

    def __repr__(self) -> str:
        parts = ["exempt=True"] if self.exempt else [repr(self.limit)]
        shown = {
            "key": self.key if self.key is None else key_name(self.key),
            "methods": sorted(self.methods) if self.methods else None,
            "paths": [p.pattern for p in self.paths] or None,
            "cost": None if self.cost == 1 else self.cost,
            "id": self.id,
        }
        parts += [f"{name}={value!r}" for name, value in shown.items() if value is not None]
        return f"Rule({', '.join(parts)})"
