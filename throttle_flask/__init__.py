"""Rate limiting for Flask: `Throttle(app)` (or `init_app` in an application factory), the
`@throttle.limit(...)` and `@throttle.exempt` decorators for views and blueprints, and the
`flask throttle` commands."""

from __future__ import annotations

from throttle_core.http import Decision, Rule
from throttle_flask.errors import RateLimitExceeded, StorageUnavailable
from throttle_flask.extension import Throttle

__all__ = ["Decision", "RateLimitExceeded", "Rule", "StorageUnavailable", "Throttle"]
