"""The request side shared by the Django, Flask and ASGI integrations: the shared options and
settings, a framework-neutral view of a request, keys, rules, limits on one view, the decision
for one request, headers and the refusal body."""

from __future__ import annotations

from throttle_core.http.addresses import ClientAddress, parse_address
from throttle_core.http.decision import PASS, PROBLEM_JSON, QUOTA_EXCEEDED, Decision, published
from throttle_core.http.headers import (
    DEFAULT_STYLES,
    STYLES,
    LimitReport,
    Quota,
    header_styles,
    rate_limit_headers,
)
from throttle_core.http.keys import KeySpec
from throttle_core.http.limiter import RequestLimiter
from throttle_core.http.options import OPTION_NAMES, OptionKeywords, Options, ViewOptionKeywords
from throttle_core.http.request import (
    WEBSOCKET,
    EnvironHeaders,
    Headers,
    RequestView,
    UserLookup,
)
from throttle_core.http.rules import RULE_FIELDS, Rule
from throttle_core.http.settings import SETTING_NAMES, Settings, read_settings
from throttle_core.http.views import GLOBAL, ViewLimit, ViewLimitOptions, ViewLimits

__all__ = [
    "DEFAULT_STYLES",
    "GLOBAL",
    "OPTION_NAMES",
    "PASS",
    "PROBLEM_JSON",
    "QUOTA_EXCEEDED",
    "RULE_FIELDS",
    "SETTING_NAMES",
    "STYLES",
    "WEBSOCKET",
    "ClientAddress",
    "Decision",
    "EnvironHeaders",
    "Headers",
    "KeySpec",
    "LimitReport",
    "OptionKeywords",
    "Options",
    "Quota",
    "RequestLimiter",
    "RequestView",
    "Rule",
    "Settings",
    "UserLookup",
    "ViewLimit",
    "ViewLimitOptions",
    "ViewLimits",
    "ViewOptionKeywords",
    "header_styles",
    "parse_address",
    "published",
    "rate_limit_headers",
    "read_settings",
]
