"""Settings, one schema for every framework: Django's `THROTTLE` dict and Flask's `THROTTLE_*`
config keys are the shared options in upper case, read here and validated at start-up."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, NamedTuple

from throttle_core.errors import ConfigError
from throttle_core.http.options import OPTION_NAMES, OptionKeywords, Options, check_option
from throttle_core.suggest import unknown_name

SETTING_NAMES: dict[str, str] = {name.upper(): name for name in OPTION_NAMES}
"""Each setting's key (`LIMITS`, `RULES`, `STORAGE`, …) and the option it sets."""


class Settings(NamedTuple):
    """What `read_settings` found: the validated shared `options`, and the values of the
    integration's own keys (`extras`, by their names without the prefix)."""

    options: Options
    extras: dict[str, Any]


def read_settings(
    settings: Mapping[str, Any],
    *,
    prefix: str = "",
    extras: Collection[str] = (),
    storage: Callable[[Any], Any] | None = None,
    overrides: OptionKeywords | None = None,
) -> Settings:
    """The options in `settings`, whose keys are the option names in upper case after `prefix`
    (`read_settings(app.config, prefix="THROTTLE_")` reads `THROTTLE_LIMITS`, …; keys without
    the prefix are someone else's and left alone). `extras` are the integration's own keys.
    `storage`, when given, turns the `STORAGE` value (None when absent) into a storage first,
    for storage names only that framework knows. `overrides` are options given in code, which
    win over the settings. A key nobody knows, a `RULES` entry with an unknown field, or a bad
    value is a `ConfigError` naming the key and suggesting the closest known name."""
    own = set(extras)
    known = [prefix + name for name in (*SETTING_NAMES, *extras)]
    values: dict[str, Any] = {}
    found: dict[str, Any] = {}
    for name, value in settings.items():
        if not isinstance(name, str) or not name.startswith(prefix):
            continue
        bare = name[len(prefix) :]
        if bare in SETTING_NAMES:
            values[SETTING_NAMES[bare]] = value
        elif bare in own:
            found[bare] = value
        else:
            raise unknown_name("setting", name, known)
    if storage is not None:
        values["storage"] = storage(values.get("storage"))
    for option, value in values.items():
        values[option] = _checked(prefix + option.upper(), option, value)
    for option, value in (overrides or {}).items():
        values[option] = _checked(option, option, value)
    return Settings(Options(**values), found)


def _checked(where: str, option: str, value: object) -> object:
    try:
        return check_option(option, value)
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None
