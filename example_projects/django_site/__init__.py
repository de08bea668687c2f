"""A small Django site rate limited by `throttle_django`: SQLite by default, counters in the
site's own database, a login rule, a limited API view and an exempt health view."""
