"""`make demo`, Django part: migrate the example site's SQLite database, serve the site with
two gunicorn workers sharing their counters in it, send it bursts of real HTTP requests, and
print what each response said; the server is stopped before the program ends."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from example_projects.demo import Scene, run
from example_projects.server import ROOT

SETTINGS = "example_projects.django_site.settings"
SCENES = [
    Scene(
        "POST /login as client {client}, a wrong password x4 (3 attempts a minute):",
        "198.51.100.",
        lambda http: [http.post("/login", data={"password": "guess"}) for _ in range(4)],
        [401, 401, 401, 429],
    ),
    Scene(
        "GET /api/items x3 with X-Api-Key: demo-key (@limit 2/minute per API key):",
        "192.0.2.",
        lambda http: [http.get("/api/items") for _ in range(3)],
        [200, 200, 429],
        {"X-Api-Key": "demo-key"},
    ),
]


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        env = {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DJANGO_SITE_DATABASE": str(Path(folder) / "site.sqlite3"),
        }
        migrate = [sys.executable, "-m", "django", "migrate", "--verbosity", "0"]
        subprocess.run(migrate, cwd=ROOT, env={**os.environ, **env}, check=True)
        return run(
            "example_projects.django_site.wsgi:application",
            server="gunicorn",
            workers=2,
            env=env,
            about="gunicorn, 2 workers counting in one SQLite file, limit 5/minute per client",
            scenes=SCENES,
        )


if __name__ == "__main__":
    sys.exit(main())
