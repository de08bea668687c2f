"""`make demo`, ASGI part: serve the example app with uvicorn, send it a burst of real HTTP
requests, and print what each response said; the server is stopped before the program ends."""

from __future__ import annotations

import sys

from example_projects.demo import run


def main() -> int:
    return run(
        "example_projects.asgi_app.app:app",
        server="uvicorn",
        about="uvicorn, limit 5/minute per client",
    )


if __name__ == "__main__":
    sys.exit(main())
