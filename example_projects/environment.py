"""The rate-limit settings of every example project, read from environment variables.

The Django, Flask and ASGI example projects all read the same variables through
`throttle_settings()`, which returns the settings in their shared upper-case schema (Django's
`THROTTLE` dict; Flask's `THROTTLE_*` keys without the prefix; the ASGI middleware's options
in upper case), so one environment configures any of them the same way:

- `THROTTLE_STORAGE_URL`: the storage URL (unset: the project's default storage), e.g.
  `redis://127.0.0.1:6379/0?prefix=demo:`, `redis+cluster://h1:p1,h2:p2`,
  `postgresql://postgres@127.0.0.1/db?table=throttle_state`.
- `THROTTLE_FALLBACK_URL`: when set, the storage is a `ResilientStorage` using
  `THROTTLE_STORAGE_URL` first and this one while it is down; `THROTTLE_COOLDOWN` is the
  seconds the breaker stays open after a failure (default 5).
- `THROTTLE_LIMIT`: the limit of every request per client, a limit string (`;` between
  several); default `5/minute`; empty: no limit on every request (only `THROTTLE_RULES`).
- `THROTTLE_POLICY`: the policy of those limit strings: `sliding_window` (default),
  `fixed_window`, `token_bucket` or `gcra`.
- `THROTTLE_RULES`: a JSON list of rules, each an object of rule fields (`limit`, `key`,
  `methods`, `paths`, `cost`, `id`, `exempt`); unset: the project's own rules.
- `THROTTLE_HEADERS`: header styles, comma-separated (default `ietf,legacy`; `none`).
- `THROTTLE_FAIL_OPEN`: `true` (default) lets requests through when the storage fails,
  `false` answers 503.
- `THROTTLE_TRUSTED_PROXIES`: comma-separated addresses or networks whose proxy header is
  believed; `THROTTLE_PROXY_HEADER` names that header (`x-forwarded-for`, `forwarded` or
  `x-real-ip`; unset: the default).
- `THROTTLE_KEY`: the default key of every limit (default `ip`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from throttle_core import ConfigError, parse_limits

DEFAULT_LIMIT = "5/minute"
VARIABLES = (
    "THROTTLE_STORAGE_URL",
    "THROTTLE_FALLBACK_URL",
    "THROTTLE_COOLDOWN",
    "THROTTLE_LIMIT",
    "THROTTLE_POLICY",
    "THROTTLE_RULES",
    "THROTTLE_HEADERS",
    "THROTTLE_FAIL_OPEN",
    "THROTTLE_TRUSTED_PROXIES",
    "THROTTLE_PROXY_HEADER",
    "THROTTLE_KEY",
)
"""Every variable `throttle_settings` reads."""


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _flag(name: str, text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {text!r}")


def storage_from_environment(environ: Mapping[str, str] = os.environ) -> Any:
    """The storage the variables name: the URL `THROTTLE_STORAGE_URL` (None when unset: the
    project's default), or a `ResilientStorage` in front of it when `THROTTLE_FALLBACK_URL`
    is set."""
    url = environ.get("THROTTLE_STORAGE_URL") or None
    fallback = environ.get("THROTTLE_FALLBACK_URL")
    if not fallback:
        return url
    from throttle_core.storage import ResilientStorage

    text = environ.get("THROTTLE_COOLDOWN", "5")
    try:
        cooldown = float(text)
    except ValueError:
        raise ConfigError(f"THROTTLE_COOLDOWN must be a number of seconds, got {text!r}") from None
    return ResilientStorage(url or "memory://", fallback, cooldown=cooldown)


def throttle_settings(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The settings the variables describe, keyed `LIMITS`, `RULES`, `STORAGE`, `HEADERS`,
    `FAIL_OPEN`, `TRUSTED_PROXIES`, `KEY` and `PROXY_HEADER`; `STORAGE`, `RULES` and
    `PROXY_HEADER` only when their variables are set, so that the project's defaults hold
    otherwise. Bad values raise `ConfigError` naming the variable."""
    limit = environ.get("THROTTLE_LIMIT", DEFAULT_LIMIT)
    policy = environ.get("THROTTLE_POLICY", "sliding_window")
    settings: dict[str, Any] = {
        "LIMITS": parse_limits(limit, policy=policy) if limit.strip() else [],
        "HEADERS": _names(environ.get("THROTTLE_HEADERS", "ietf,legacy")),
        "FAIL_OPEN": _flag("THROTTLE_FAIL_OPEN", environ.get("THROTTLE_FAIL_OPEN", "true")),
        "TRUSTED_PROXIES": _names(environ.get("THROTTLE_TRUSTED_PROXIES", "")),
        "KEY": environ.get("THROTTLE_KEY", "ip"),
    }
    storage = storage_from_environment(environ)
    if storage is not None:
        settings["STORAGE"] = storage
    rules = environ.get("THROTTLE_RULES")
    if rules:
        try:
            settings["RULES"] = json.loads(rules)
        except ValueError as error:
            raise ConfigError(f"THROTTLE_RULES is not JSON: {error}") from None
        if not isinstance(settings["RULES"], list) or not all(
            isinstance(rule, dict) for rule in settings["RULES"]
        ):
            raise ConfigError(f"THROTTLE_RULES must be a JSON list of objects, got {rules!r}")
    if environ.get("THROTTLE_PROXY_HEADER"):
        settings["PROXY_HEADER"] = environ["THROTTLE_PROXY_HEADER"]
    return settings
