"""Settings of the example Django site.

The site's database, where the rate-limit counters live too (`"django://"`), is the one
`DJANGO_SITE_DATABASE` names: the path of a SQLite file (default: a file in the system's
temporary directory, so nothing else has to run), or a PostgreSQL URL
(`postgresql://user:password@host:port/name`, through psycopg 3), where `ModelStorage`
decides in one statement on the server. Run `python -m example_projects.django_site migrate`
once against it. The rate-limit settings come from the environment variables every
example project reads (see `example_projects.environment`): `THROTTLE_STORAGE_URL` (e.g.
`redis://127.0.0.1:6379/0`), `THROTTLE_LIMIT` (default `5/minute` per client), `THROTTLE_RULES`
(replaces the site's own login rule), `THROTTLE_TRUSTED_PROXIES`, `THROTTLE_HEADERS`,
`THROTTLE_FAIL_OPEN`, ….
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from example_projects.django_site.databases import database
from example_projects.environment import throttle_settings

DEFAULT_DATABASE = Path(tempfile.gettempdir()) / "throttle-django-site.sqlite3"

SECRET_KEY = os.environ.get("DJANGO_SITE_SECRET_KEY", "throttle-suite example site, not secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "example_projects.django_site.urls"
WSGI_APPLICATION = "example_projects.django_site.wsgi.application"
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "throttle_django",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "throttle_django.middleware.RateLimitMiddleware",
]


DATABASES = {"default": database(os.environ.get("DJANGO_SITE_DATABASE", str(DEFAULT_DATABASE)))}

LOGIN_RULE = {"limit": "3/minute", "paths": [r"^/login$"], "methods": ["POST"], "id": "login"}
"""Three login attempts a minute per client; a successful login resets the counter."""

THROTTLE = throttle_settings()
THROTTLE.setdefault("RULES", [LOGIN_RULE])
