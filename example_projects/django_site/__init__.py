"""A small Django site rate limited by `throttle_django`: counters in the site's own database
(SQLite by default, PostgreSQL when `DJANGO_SITE_DATABASE` is a `postgresql://` URL), a login
rule, a limited API view and an exempt health view."""
