"""Runnable example projects, one per framework; used by `make demo` and the end-to-end tests."""
