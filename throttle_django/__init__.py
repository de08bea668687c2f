"""Rate limiting for Django: the `throttle_django` app, its database storage and admin."""
