"""ModelStorage: limiter states in the project's own database, and the STORAGE setting's values.

On PostgreSQL (through psycopg 3) each decision is one call of the same SQL function as
`PostgresStorage`, on Django's connection and inside whatever transaction Django has open.
Elsewhere (SQLite, MySQL, or PostgreSQL through psycopg2) the policy runs in Python inside a
transaction that takes the row before reading it: `SELECT ... FOR UPDATE`, and on SQLite a
write first, so the database's write lock is held before the read. Both are exact under
concurrent processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.models import F
from django.utils import timezone as django_timezone
from django.utils.module_loading import import_string

from throttle_core.clock import Clock, check_clock
from throttle_core.errors import ConfigError, ThrottleError
from throttle_core.policies import LimiterPolicy
from throttle_core.result import RateLimit
from throttle_core.storage import storage_from_url
from throttle_core.storage.decoding import usable_state
from throttle_django.models import MAX_ID_LENGTH, State
from throttle_django.postgres import decides_on_server

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from throttle_core.storage.postgres import Program, Programs

T = TypeVar("T")

INSERT_TRIES = 3
"""Times a decision on a new id is retried after another writer inserted that id first."""


class ModelStorage:
    """Limiter states in the `throttle_django` model's table on database alias `using`.

    An atomic storage: the limiter hands it whole decisions and needs no lock. Expiry of
    stored rows is judged by `clock` (default: the system clock; on PostgreSQL the decision
    function uses the server's clock instead). Decisions on PostgreSQL commit without waiting
    for the WAL flush unless `durable=True`, as `PostgresStorage`'s do. The `a`-methods run
    the same code in Django's database thread (`sync_to_async`), as Django's async ORM does,
    so they never block the event loop.
    """

    def __init__(
        self,
        using: str = DEFAULT_DB_ALIAS,
        *,
        clock: Clock | None = None,
        durable: bool = False,
    ) -> None:
        if not isinstance(using, str) or using not in settings.DATABASES:
            raise ConfigError(
                f"ModelStorage(using={using!r}): no such database alias in DATABASES "
                f"(known: {', '.join(sorted(settings.DATABASES))})"
            )
        if not isinstance(durable, bool):
            raise ConfigError(f"durable must be True or False, got {durable!r:.60}")
        self.using = using
        self.clock = check_clock(clock)
        self.durable = durable
        self._programs: Programs | None = None

    def __repr__(self) -> str:
        return f"ModelStorage(using={self.using!r})"

    # Sync API: save/fetch/delete, the atomic consume/refund, and cleanup.

    def consume(
        self, policy: LimiterPolicy, id: str, tokens: int, max_wait: float | None, now: float | None
    ) -> RateLimit:
        programs = self._server_programs(id)
        if programs is not None:
            return self._run(programs._consume(policy, id, tokens, max_wait, now))

        def decide(state: Any, at: float) -> tuple[Any, RateLimit]:
            return policy.decide(id, state, at, tokens, max_wait)

        return self._locked(policy, id, now, decide)

    def refund(
        self, policy: LimiterPolicy, id: str, tokens: int, at: float, now: float | None
    ) -> RateLimit:
        """Give back `tokens` booked for time `at`; returns what a peek reports afterwards."""
        programs = self._server_programs(id)
        if programs is not None:
            return self._run(programs._refund(policy, id, tokens, at, now))

        def give_back(state: Any, decided_at: float) -> tuple[Any, RateLimit]:
            after: Any = policy.refund(state, decided_at, tokens, at)
            return after, policy.decide(id, after or state, decided_at, 0, None)[1]

        return self._locked(policy, id, now, give_back)

    def save(self, state: Any) -> None:
        """Store `state`, expiring `state.expiration_time` seconds from now."""
        _check_id(state.id)
        row = State(state.id, state.to_dict(), self._datetime(self._now() + state.expiration_time))
        self._rows().bulk_create(
            [row], update_conflicts=True, unique_fields=["id"], update_fields=["data", "expires_at"]
        )

    def fetch(self, id: str) -> Any:
        """The unexpired state stored under `id`, or None (also for undecodable data)."""
        row = self._rows().filter(pk=id).values_list("data", "expires_at").first()
        return None if row is None else self._live(id, row[0], row[1], self._now(), None)

    def delete(self, id: str) -> None:
        self._rows().filter(pk=id).delete()

    def cleanup(self) -> int:
        """Delete the expired rows and return how many were deleted."""
        deleted, _ = self._rows().filter(expires_at__lte=self._datetime(self._now())).delete()
        return int(deleted)

    # Async twins: the same code in Django's database thread.

    async def aconsume(
        self, policy: LimiterPolicy, id: str, tokens: int, max_wait: float | None, now: float | None
    ) -> RateLimit:
        return await sync_to_async(self.consume)(policy, id, tokens, max_wait, now)

    async def arefund(
        self, policy: LimiterPolicy, id: str, tokens: int, at: float, now: float | None
    ) -> RateLimit:
        return await sync_to_async(self.refund)(policy, id, tokens, at, now)

    async def asave(self, state: Any) -> None:
        await sync_to_async(self.save)(state)

    async def afetch(self, id: str) -> Any:
        return await sync_to_async(self.fetch)(id)

    async def adelete(self, id: str) -> None:
        await sync_to_async(self.delete)(id)

    async def acleanup(self) -> int:
        return await sync_to_async(self.cleanup)()

    # PostgreSQL: the core's programs, run on Django's connection.

    def _server_programs(self, id: str) -> Programs | None:
        _check_id(id)
        if not decides_on_server(connections[self.using]):
            return None
        if self._programs is None:
            from throttle_core.storage.postgres import Programs

            self._programs = Programs(State._meta.db_table, clock=self.clock, durable=self.durable)
        return self._programs

    def _run(self, program: Program[T]) -> T:
        from throttle_core.storage.postgres import NOT_SET_UP, run_program

        connection = connections[self.using]
        with connection.wrap_database_errors:
            connection.ensure_connection()
            try:
                return run_program(connection.connection, program)
            except NOT_SET_UP as error:
                raise ConfigError(
                    f"the {State._meta.db_table!r} table or its decision function is missing on "
                    f"database {self.using!r} ({error.diag.message_primary}); run "
                    f"`manage.py migrate throttle_django --database {self.using}`"
                ) from error

    # Other databases: the Python policy on a row taken before it is read.

    def _locked(
        self,
        policy: LimiterPolicy,
        id: str,
        now: float | None,
        step: Callable[[Any, float], tuple[Any, T]],
    ) -> T:
        """Run `step(stored state, decision time)` on the locked row of `id` and store the
        state it returns (None: nothing to store); a row inserted meanwhile by another writer
        is decided on again, now that it can be locked."""
        for _ in range(INSERT_TRIES):
            try:
                with transaction.atomic(using=self.using):
                    return self._locked_once(policy, id, now, step)
            except IntegrityError:
                continue
        raise ThrottleError(f"the row of {id!r} keeps being inserted under a new decision")

    def _locked_once(
        self,
        policy: LimiterPolicy,
        id: str,
        now: float | None,
        step: Callable[[Any, float], tuple[Any, T]],
    ) -> T:
        rows = self._rows().filter(pk=id)
        if connections[self.using].vendor == "sqlite":
            rows.update(expires_at=F("expires_at"))
        found = list(rows.select_for_update().values_list("data", "expires_at"))
        stored_now = self._now()
        state = self._live(id, found[0][0], found[0][1], stored_now, policy) if found else None
        new, value = step(state, stored_now if now is None else now)
        if new is not None:
            expires_at = self._datetime(stored_now + new.expiration_time)
            if found:
                rows.update(data=new.to_dict(), expires_at=expires_at)
            else:
                self._rows().create(id=id, data=new.to_dict(), expires_at=expires_at)
        return value

    # Rows, times and decoding.

    def _rows(self) -> QuerySet[State]:
        rows: QuerySet[State] = State.objects.using(self.using)
        return rows

    def _now(self) -> float:
        return time.time() if self.clock is None else self.clock.now()

    def _datetime(self, epoch: float) -> datetime:
        """`epoch` as the DateTimeField takes it: aware UTC, or naive local without USE_TZ."""
        value = datetime.fromtimestamp(epoch, timezone.utc)
        if settings.USE_TZ:
            return value
        return django_timezone.make_naive(value, django_timezone.get_default_timezone())

    def _live(
        self,
        id: str,
        data: Any,
        expires_at: datetime | None,
        now: float,
        policy: LimiterPolicy | None,
    ) -> Any:
        """The stored state, or None when it expired, or (logged) cannot be decoded, holds
        numbers no decision writes, or belongs to another policy than `policy`."""
        if expires_at is not None and _epoch(expires_at) <= now:
            return None
        return usable_state(data, f"of {id!r} in {State._meta.db_table}", policy, now)


def _epoch(value: datetime) -> float:
    if django_timezone.is_naive(value):
        value = django_timezone.make_aware(value, django_timezone.get_default_timezone())
    return value.timestamp()


def _check_id(id: str) -> None:
    if len(id) > MAX_ID_LENGTH:
        raise ConfigError(
            f"the state id {id[:80]!r}… is {len(id)} characters long; ModelStorage rows hold "
            f"at most {MAX_ID_LENGTH} (shorten the limit's id)"
        )


# The STORAGE setting.


def storage_from_setting(value: object) -> Any:
    """The storage a `THROTTLE["STORAGE"]` value names.

    `"django://"` or `"django://ALIAS"`: a `ModelStorage` on that database; `"cache://ALIAS"`:
    a `RedisStorage` on the Redis server behind that cache (Django's `RedisCache` or
    django-redis); any other URL: `throttle_core.storage_from_url`; any other string: a dotted
    path to a storage, or to a callable returning one; a storage object is used as given.
    Anything else is a `ConfigError` naming the value.
    """
    if isinstance(value, str) and "://" in value:
        scheme, _, rest = value.partition("://")
        if scheme.lower() == "django":
            return ModelStorage(_alias(value, rest) or DEFAULT_DB_ALIAS)
        if scheme.lower() == "cache":
            from throttle_django.cache import redis_storage_for_cache

            return redis_storage_for_cache(_alias(value, rest) or "")
        return storage_from_url(value)
    if isinstance(value, str):
        try:
            target = import_string(value)
        except ImportError as error:
            raise ConfigError(f"storage {value!r} cannot be imported: {error}") from error
        if callable(target) and not _is_storage(target):
            target = target()
        return _storage_object(target, f"{value!r} gave {target!r}")
    return _storage_object(value, repr(value))


def _alias(value: str, rest: str) -> str:
    parts = urlsplit(value)
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        raise ConfigError(f"storage {value!r}: give only an alias, as in django://replica")
    return rest.rstrip("/")


def _is_storage(value: object) -> bool:
    return not isinstance(value, type) and all(
        hasattr(value, name) for name in ("save", "fetch", "delete")
    )


def _storage_object(value: object, described: str) -> Any:
    if isinstance(value, type):
        raise ConfigError(
            f"storage {described} is a class: give an instance, or a function returning one"
        )
    if not _is_storage(value):
        raise ConfigError(
            f"storage {described} is not a storage (it needs save/fetch/delete): use "
            "django://, cache://ALIAS, a storage URL or a dotted path to a storage"
        )
    return value
