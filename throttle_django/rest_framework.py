"""A Django REST framework throttle deciding through the suite: exact on every built-in storage,
where DRF's own throttles read the request history from the cache and write it back without
atomicity (so concurrent requests can all pass the last slot).

```python
REST_FRAMEWORK = {"DEFAULT_THROTTLE_CLASSES": ["throttle_django.rest_framework.RateThrottle"]}

class ItemsView(APIView):
    throttle_rate = "100/hour"
```
"""

from __future__ import annotations

from functools import lru_cache

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from throttle_core.http import PASS, Decision, ViewLimits
from throttle_core.http.views import LimitValue
from throttle_django import conf
from throttle_django.decisions import GLOBAL_DECIDED, decision_of, publish, request_view
from throttle_django.decorators import DjangoLimit, view_name

LIMITS_KEPT = 1024


@lru_cache(maxsize=LIMITS_KEPT)
def _limit(rate: str) -> DjangoLimit:
    return DjangoLimit(rate)


def _limit_of(rate: LimitValue) -> DjangoLimit:
    return _limit(rate) if isinstance(rate, str) else DjangoLimit(rate)


class RateThrottle(BaseThrottle):
    """Limits a DRF view by its `throttle_rate` (a limit string or config dict; or this
    class's `rate`), counted per view class and keyed like the middleware (`THROTTLE["KEY"]`,
    `"user"` meaning DRF's authenticated user); without one, by the `THROTTLE` rules the
    request matches (decided once: behind `RateLimitMiddleware` they already were). The
    settings' storage, trusted proxies and `FAIL_OPEN` apply. `wait()` is the refusal's
    `retry_after`; `decision` is the last `Decision`, and the request's `request.throttle`
    describes it too, so the middleware adds its headers to the response."""

    rate: LimitValue | None = None

    def __init__(self) -> None:
        self.decision: Decision = PASS

    def allow_request(self, request: Request, view: APIView) -> bool:
        http = request._request
        limiter = conf.limiter()
        if not limiter.enabled:
            return True
        rate: LimitValue | None = getattr(view, "throttle_rate", None) or self.rate
        if rate is None and getattr(http, GLOBAL_DECIDED, False):
            return True
        found = request_view(http, limiter)
        if rate is None:
            decision = limiter.check(found)
        else:
            limit = _limit_of(rate)
            name = view_name(type(view))
            decision = limiter.check(found, ViewLimits((limit,), name, global_limits=False))
        self.decision = decision
        publish(http, limiter.combine(decision_of(http), decision))
        return decision.allowed

    def wait(self) -> float | None:
        seconds = self.decision.retry_after
        return None if seconds is None else float(seconds)
