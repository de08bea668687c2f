"""The Flask hello-world app every WSGI contender wraps, and its unlimited baseline."""

from __future__ import annotations

from flask import Flask


def hello_app() -> Flask:
    app = Flask("bench")

    @app.get("/")
    def hello() -> str:
        return "Hello, world!"

    return app
