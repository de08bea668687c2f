"""The WSGI application: `gunicorn example_projects.django_site.wsgi:application` (run
`python -m example_projects.django_site migrate` once first)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_projects.django_site.settings")
application = get_wsgi_application()
