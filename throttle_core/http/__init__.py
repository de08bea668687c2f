"""The request side shared by the Django, Flask and ASGI integrations: a framework-neutral view
of a request, keys, rules, the decision for one request, headers and the refusal body."""

from __future__ import annotations

from throttle_core.http.addresses import ClientAddress, parse_address
from throttle_core.http.decision import PASS, PROBLEM_JSON, QUOTA_EXCEEDED, Decision
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
from throttle_core.http.request import WEBSOCKET, Headers, RequestView
from throttle_core.http.rules import Rule

__all__ = [
    "DEFAULT_STYLES",
    "PASS",
    "PROBLEM_JSON",
    "QUOTA_EXCEEDED",
    "STYLES",
    "WEBSOCKET",
    "ClientAddress",
    "Decision",
    "Headers",
    "KeySpec",
    "LimitReport",
    "Quota",
    "RequestLimiter",
    "RequestView",
    "Rule",
    "header_styles",
    "parse_address",
    "rate_limit_headers",
]
