"""The `THROTTLE` setting, read once through the shared settings schema and read again when a
test changes it with `override_settings` (Django's `setting_changed` signal).

Every key is checked when the settings are first read (at start-up: the middleware reads them
when Django loads it, and the system checks read them too), so a typo or a bad value is an
error naming the key and the value before the first request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from throttle_core.errors import ConfigError
from throttle_core.http import Decision, Options, RequestLimiter, read_settings

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

SETTING = "THROTTLE"
"""The name of the settings dict."""
EXTRAS = ("RESPONSE", "ADMIN")
"""The keys Django adds to the shared schema: `RESPONSE` (a dotted path to a
`(request, decision) -> HttpResponse` callable) and `ADMIN` (False: no admin)."""
DEFAULT_STORAGE = "django://"
"""The storage without a `STORAGE` key: `ModelStorage` on the default database."""

ResponseFunction = Callable[["HttpRequest", Decision], "HttpResponse"]


class SettingError(ConfigError):
    """A bad `THROTTLE` value; `key` is the key it is under (`"THROTTLE"` for the dict
    itself or a key nobody knows)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class Configuration:
    """What the `THROTTLE` setting says, validated: the shared `options`, the request
    limiter every middleware, decorator and shortcut of the process decides with, the
    `response` function for refusals (None: the problem+json response) and whether the
    admin is registered."""

    __slots__ = ("admin", "limiter", "options", "response")

    def __init__(self, options: Options, response: ResponseFunction | None, admin: bool) -> None:
        self.options = options
        self.limiter = RequestLimiter(options)
        self.response = response
        self.admin = admin

    def configured_limits(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each limit of `LIMITS` and `RULES` as `(counter id, config)`: the counter id is
        the config id its states are stored under (the rule's id, or the limit's name with
        a digest of the rule for unnamed rules)."""
        for bound in self.limiter.rules:
            for limit in bound.limits:
                config = limit.factory.config
                yield config["id"], config


def _storage(value: object) -> Any:
    from throttle_django.storage import storage_from_setting

    try:
        return storage_from_setting(DEFAULT_STORAGE if value is None else value)
    except ConfigError as error:
        raise SettingError("STORAGE", f'{SETTING}["STORAGE"]: {error}') from None


def _response(value: object) -> ResponseFunction | None:
    if value is None:
        return None
    where = f'{SETTING}["RESPONSE"]'
    if callable(value):
        return value
    if not isinstance(value, str):
        raise SettingError(
            "RESPONSE",
            f"{where} must be the dotted path of a (request, decision) -> HttpResponse "
            f"function, got {value!r}",
        )
    try:
        found = import_string(value)
    except ImportError as error:
        raise SettingError("RESPONSE", f"{where} {value!r} cannot be imported: {error}") from None
    if not callable(found):
        raise SettingError("RESPONSE", f"{where} {value!r} is {found!r}, not a function")
    return found  # type: ignore[no-any-return]


def load(raw: object) -> Configuration:
    """The configuration a `THROTTLE` value describes (None: the defaults); a `SettingError`
    naming the key and value when one is bad."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise SettingError(SETTING, f"{SETTING} must be a dict, got {raw!r}")
    try:
        found = read_settings(raw, extras=EXTRAS, storage=_storage)
    except SettingError:
        raise
    except ConfigError as error:
        text = str(error)
        key = text.partition(":")[0] if text.partition(":")[0] in raw else SETTING
        raise SettingError(key, f"{SETTING}: {text}") from None
    admin = found.extras.get("ADMIN", True)
    if not isinstance(admin, bool):
        raise SettingError("ADMIN", f'{SETTING}["ADMIN"] must be True or False, got {admin!r}')
    return Configuration(found.options, _response(found.extras.get("RESPONSE")), admin)


_lock = threading.Lock()
_current: Configuration | None = None


def configuration() -> Configuration:
    """The configuration of `settings.THROTTLE`, read at the first call and kept until the
    setting changes."""
    global _current
    current = _current
    if current is None:
        with _lock:
            current = _current
            if current is None:
                current = _current = load(getattr(settings, SETTING, None))
    return current


def limiter() -> RequestLimiter:
    """The request limiter of `settings.THROTTLE`."""
    return configuration().limiter


@receiver(setting_changed)
def _changed(*, setting: str, **kwargs: Any) -> None:
    global _current
    if setting == SETTING:
        _current = None
