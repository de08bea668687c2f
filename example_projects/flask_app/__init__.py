"""A Flask app limited by `Throttle`, with the gunicorn server and burst that `make demo` runs."""
