"""A FastAPI app behind `RateLimitMiddleware`, with the server and burst that `make demo` runs."""
