"""Our Flask extension on the Flask hello world."""

from __future__ import annotations

from typing import Any

from benchmarks.frameworks.base import OurAdapter
from benchmarks.frameworks.flask import hello_app


class ThrottleFlask(OurAdapter):
    module = "throttle_flask"
    framework = "flask"
    protocol = "wsgi"

    def limited(self, config: dict[str, Any], storage: object) -> Any:
        from throttle_flask import Throttle

        app = hello_app()
        Throttle(app, limits=[config], storage=storage, fail_open=False)
        return app
