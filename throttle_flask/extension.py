"""`Throttle`, the Flask extension: settings from `app.config` (`THROTTLE_*`), the decision
in `before_request`, the headers in `after_request`, and the `limit` and `exempt`
decorators for views and blueprints."""

from __future__ import annotations

import functools
import importlib.util
import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Blueprint, Flask, current_app, has_request_context, request
from flask.wrappers import Response

from throttle_core.clock import Clock
from throttle_core.errors import ConfigError
from throttle_core.http import (
    Decision,
    EnvironHeaders,
    KeySpec,
    OptionKeywords,
    RequestLimiter,
    RequestView,
    UserLookup,
    published,
    read_settings,
)
from throttle_core.http.options import check_option
from throttle_core.http.views import LimitValue
from throttle_flask.errors import RateLimitExceeded, StorageUnavailable
from throttle_flask.limits import (
    Declared,
    EndpointLimits,
    FlaskLimit,
    ResponsePredicate,
    endpoint_limits,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

T = TypeVar("T")

_tuple_new = tuple.__new__

PREFIX = "THROTTLE_"
"""The prefix of the extension's keys in `app.config`."""
EXTRAS = ("USER",)
"""The keys of Flask's own besides the shared ones: `THROTTLE_USER`."""

DECISION = "throttle.decision"
"""The WSGI environ key holding the request's `Decision` (None when no limit applied)."""
PENDING = "throttle.pending"
"""The WSGI environ key holding what is settled after the response (`deduct_when`)."""

UserFunction = Callable[[], object]
"""`THROTTLE_USER`: returns the authenticated user's id, or None for anonymous requests."""


def flask_login_user() -> str | None:
    """The id of flask-login's `current_user` when it is authenticated (None otherwise, and
    when the app has no `LoginManager`)."""
    if getattr(current_app, "login_manager", None) is None:
        return None
    from flask_login import current_user

    if current_user is None or not current_user.is_authenticated:
        return None
    found = current_user.get_id()
    return None if found is None else str(found)


def user_lookup(user: object) -> UserLookup | None:
    """What finds a request's user for `"user"` keys: `THROTTLE_USER` when set, else
    flask-login when it is installed, else nothing (the address is used)."""
    if user is not None:
        if not callable(user) or inspect.iscoroutinefunction(user):
            raise ConfigError(
                f"{PREFIX}USER must be a plain function returning the user's id or None, "
                f"got {user!r}"
            )
        return user
    if importlib.util.find_spec("flask_login") is not None:
        return flask_login_user
    return None


def _check_sync_keys(limiter: RequestLimiter) -> None:
    for key in (limiter.key, *(bound.key for bound in limiter.rules)):
        if inspect.iscoroutinefunction(key):
            raise ConfigError(
                f"the key function {key!r} is async: Flask decides before the view, in sync "
                "code; make it a plain function"
            )


def add_headers(response: Response, headers: Iterable[tuple[str, str]]) -> None:
    """Add `headers` to `response`, leaving alone any header the view set itself. The pairs
    go straight onto werkzeug's header list: they were rendered by the request side (names
    and values without line breaks), and `Headers.add` checking each again doubled the cost
    of the hook (`make bench`, Flask workload). Plain loops rather than comprehensions: each
    comprehension is a call of its own on every response (Python 3.11)."""
    pairs = response.headers._list
    present = set()
    for name, _ in pairs:
        present.add(name.lower())
    for pair in headers:
        if pair[0].lower() not in present:
            pairs.append(pair)


def refuse(decision: Decision) -> None:
    """Raise the exception answering a refusal: 429, or 503 when the storage failed."""
    if decision.status == 503:
        raise StorageUnavailable(decision)
    raise RateLimitExceeded(decision)


class AppThrottle:
    """The extension's state in one app (`app.extensions["throttle"]`): its request limiter
    (options from that app's config), its user lookup, and what covers each endpoint."""

    def __init__(
        self, throttle: Throttle, app: Flask, limiter: RequestLimiter, user: UserLookup | None
    ) -> None:
        self.throttle = throttle
        self.app = app
        self.limiter = limiter
        self.user = user
        self._covered: dict[str | None, EndpointLimits | None] = {}

    def endpoint_limits(self, endpoint: str | None) -> EndpointLimits:
        """What covers `endpoint` (None: a request that matched no route)."""
        return endpoint_limits(self.app, endpoint, self.throttle.declared)

    def _covering(self, endpoint: str | None) -> EndpointLimits | None:
        covered = self.endpoint_limits(endpoint)
        limiter = self.limiter
        idle = not limiter.enabled or (
            not covered.limits
            and not covered.deferred
            and not (covered.global_limits and limiter.rules)
        )
        return None if idle else covered

    def before_request(self) -> None:
        """Decide for the request: the global limits and its endpoint's, as one compound;
        raise `RateLimitExceeded` (or `StorageUnavailable`) when it is refused."""
        req = request._get_current_object()  # type: ignore[attr-defined]
        endpoint = req.endpoint
        try:
            covered = self._covered[endpoint]
        except KeyError:
            covered = self._covered[endpoint] = self._covering(endpoint)
        environ = req.environ
        if covered is None:
            environ[DECISION] = None
            return
        view = _tuple_new(
            RequestView,
            (req.method, req.path, req.remote_addr, EnvironHeaders(environ), self.user, req),
        )
        limiter = self.limiter
        if not covered.peeks:
            decision = environ[DECISION] = limiter.check(view, covered.view)
            if decision.status is not None:
                refuse(decision)
            return
        peeks = [limiter.check(view, peek) for peek in covered.peeks]
        for peeked in peeks:
            if peeked.status is not None:
                environ[DECISION] = peeked
                refuse(peeked)
        decision = limiter.check(view, covered.view)
        if decision.status != 503:
            if decision.status is None:
                environ[PENDING] = (view, decision, covered, peeks)
            decision = functools.reduce(limiter.combine, peeks, decision)
        environ[DECISION] = decision
        if decision.status is not None:
            refuse(decision)

    def after_request(self, response: Response) -> Response:
        """Settle the `deduct_when` limits, then add the rate-limit headers to the response,
        whatever the view (or an error handler) returned."""
        environ = request.environ
        pending = environ.pop(PENDING, None)
        decision: Decision | None = environ.get(DECISION)
        if pending is not None:
            decision = environ[DECISION] = self.settle(response, *pending)
        if decision is not None and decision.headers:
            add_headers(response, decision.headers)
        return response

    def settle(
        self,
        response: Response,
        view: RequestView,
        decision: Decision,
        covered: EndpointLimits,
        peeks: Sequence[Decision],
    ) -> Decision:
        """After the response: count the `deduct_when` limits whose predicate holds, and the
        decision that describes every limit of the request as it now stands (the request
        was let through, so no limit is shown refusing it)."""
        parts = [decision]
        for limit, count, peeked in zip(covered.deferred, covered.counts, peeks, strict=True):
            taken = peeked
            if limit.deduct_when is not None and limit.deduct_when(response):
                counted = self.limiter.check(view, count)
                taken = peeked if counted.status == 503 else counted
            parts.append(taken)
        return self.limiter.let_through(parts)


class Throttle:
    """Rate limiting for Flask apps: `Throttle(app)`, or `throttle = Throttle()` then
    `throttle.init_app(app)` in an application factory (one `Throttle` serves several apps,
    each with its own state in `app.extensions["throttle"]`).

    Options are the shared ones (`limits`, `rules`, `storage`, `headers`, `trusted_proxies`,
    `fail_open`, `key`, `enabled`, `ipv6_prefix`, `proxy_header`), read from `app.config`
    under the `THROTTLE_` prefix; keywords given here win over the config. `user` (or
    `THROTTLE_USER`) returns the user's id for `"user"` keys. `lock` is for user storages
    without an atomic consume, `clock` for tests.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        user: UserFunction | None = None,
        lock: Any = None,
        clock: Clock | None = None,
        **options: Unpack[OptionKeywords],
    ) -> None:
        for name, value in options.items():
            if name != "storage":
                check_option(name, value)
        if user is not None:
            user_lookup(user)
        self.options = options
        self.user = user
        self.lock = lock
        self.clock = clock
        self.declared: dict[object, Declared] = {}
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read `app`'s `THROTTLE_*` config (every key checked now: a typo is a
        `ConfigError`), and install the hooks and the `flask throttle` commands."""
        if "throttle" in app.extensions:
            raise ConfigError(f"Throttle is already initialised on the app {app.name!r}")
        settings = read_settings(app.config, prefix=PREFIX, extras=EXTRAS, overrides=self.options)
        user = self.user if self.user is not None else settings.extras.get("USER")
        limiter = RequestLimiter(settings.options, lock=self.lock, clock=self.clock)
        _check_sync_keys(limiter)
        state = AppThrottle(self, app, limiter, user_lookup(user))
        app.extensions["throttle"] = state
        app.before_request(state.before_request)
        app.after_request(state.after_request)
        from throttle_flask.cli import throttle_commands

        app.cli.add_command(throttle_commands)

    def limit(
        self,
        limit: LimitValue | Callable[[], LimitValue],
        *,
        key: KeySpec | Callable[[], object] | None = None,
        methods: Iterable[str] | str | None = None,
        cost: int | Callable[[], int] = 1,
        id: str | None = None,
        deduct_when: ResponsePredicate | None = None,
        per_endpoint: bool = False,
    ) -> Callable[[T], T]:
        """A decorator limiting a view (sync or async), a view class or a blueprint.

        `limit` is a limit string, a config dict, or a function returning one per request
        (tiers by user); `key` a key name (default: `THROTTLE_KEY`) or a function; `cost` an
        int or a function; functions take no arguments and read `flask.request`. A view's
        limit counts per endpoint unless it has an `id`, which names one counter shared by
        every view using it; a blueprint's counts once for the whole blueprint, or per
        endpoint with `per_endpoint=True`. `deduct_when(response) -> bool`: the request is
        counted after its response, only when the predicate holds (failed logins). Stacked
        limits and the global ones are one decision: a refusal by any takes nothing from the
        others. Everything but the functions is checked here, at declaration."""
        declared = FlaskLimit.declared(
            limit,
            key=key,
            methods=methods,
            cost=cost,
            id=id,
            deduct_when=deduct_when,
            per_endpoint=per_endpoint,
        )

        def decorate(target: T) -> T:
            if per_endpoint and not isinstance(target, Blueprint):
                raise ConfigError(
                    f"per_endpoint is for blueprints; a view's limit ({target!r}) already "
                    "counts per endpoint"
                )
            self._declared_on(target).limits.insert(0, declared)
            return target

        return decorate

    def exempt(self, target: T) -> T:
        """Exempt a view, a view class or a blueprint from every limit declared outside it
        (the global limits, and an enclosing blueprint's); limits declared on it still
        apply."""
        self._declared_on(target).exempt = True
        return target

    def _declared_on(self, target: object) -> Declared:
        if not (isinstance(target, Blueprint) or callable(target)):
            raise ConfigError(
                f"throttle decorators go on views, view classes and blueprints, not {target!r}"
            )
        return self.declared.setdefault(target, Declared())

    @property
    def current_decision(self) -> Decision | None:
        """The current request's `Decision`: None outside a request, and when no limit applied
        (or the storage failed and `fail_open` let the request through)."""
        if not has_request_context():
            return None
        return published(request.environ.get(DECISION))


def state_of(app: Flask) -> AppThrottle:
    """The extension's state in `app`; a clear error when `init_app` was not called."""
    state = app.extensions.get("throttle")
    if not isinstance(state, AppThrottle):
        raise RuntimeError(f"Throttle is not initialised on the app {app.name!r}: call init_app")
    return state
