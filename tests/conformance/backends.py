"""Every backend the conformance scenarios run on. Server backends add their list here."""

from __future__ import annotations

from tests.conformance.backends_django import DJANGO_BACKENDS
from tests.conformance.backends_postgres import POSTGRES_BACKENDS
from tests.conformance.backends_redis import REDIS_BACKENDS
from tests.conformance.backends_userredis import USER_REDIS_BACKENDS
from tests.conformance.bench import Backend, memory, user_dict

BACKENDS: list[Backend] = [
    Backend("memory", memory(False)),
    Backend("memory-async", memory(True)),
    Backend("user-dict", user_dict(False)),
    Backend("user-dict-async", user_dict(True)),
    *USER_REDIS_BACKENDS,
    *REDIS_BACKENDS,
    *POSTGRES_BACKENDS,
    *DJANGO_BACKENDS,
]
