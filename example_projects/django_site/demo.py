"""`make demo`, Django part: migrate the example site's SQLite database, serve the site with
two gunicorn workers sharing their counters in it, send it bursts of real HTTP requests, and
print what each response said; the server is stopped before the program ends."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from example_projects.asgi_app.demo import BURST, show_burst
from example_projects.server import ROOT, serve

SETTINGS = "example_projects.django_site.settings"


def main() -> int:
    client_ip = f"203.0.113.{random.randint(1, 254)}"
    with tempfile.TemporaryDirectory() as folder:
        env = {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DJANGO_SITE_DATABASE": str(Path(folder) / "site.sqlite3"),
            "THROTTLE_TRUSTED_PROXIES": "127.0.0.1",
        }
        migrate = [sys.executable, "-m", "django", "migrate", "--verbosity", "0"]
        subprocess.run(migrate, cwd=ROOT, env={**os.environ, **env}, check=True)
        application = "example_projects.django_site.wsgi:application"
        with serve(application, server="gunicorn", workers=2, env=env) as server:
            url = server.url
            print(
                f"serving example_projects/django_site on {url} (gunicorn, 2 workers counting "
                "in one SQLite file, limit 5/minute per client)"
            )
            print(f"GET / x{BURST}, as client {client_ip} behind a trusted proxy\n")
            with httpx.Client(base_url=url, headers={"X-Forwarded-For": client_ip}) as client:
                responses = [client.get("/") for _ in range(BURST)]
            login_ip = f"198.51.100.{random.randint(1, 254)}"
            with httpx.Client(base_url=url, headers={"X-Forwarded-For": login_ip}) as client:
                logins = [client.post("/login", data={"password": "guess"}) for _ in range(4)]
            api_ip = f"192.0.2.{random.randint(1, 254)}"
            headers = {"X-Forwarded-For": api_ip, "X-Api-Key": "demo-key"}
            with httpx.Client(base_url=url, headers=headers) as client:
                api = [client.get("/api/items") for _ in range(3)]
    went = show_burst(responses)
    print(f"\nPOST /login as client {login_ip}, a wrong password x4 (3 attempts a minute):")
    for response in logins:
        print(f"  {response.status_code}  RateLimit: {response.headers.get('RateLimit', '-')}")
    print("\nGET /api/items x3 with X-Api-Key: demo-key (@limit 2/minute per API key):")
    for response in api:
        print(f"  {response.status_code}  RateLimit: {response.headers.get('RateLimit', '-')}")
    print("\nserver stopped.")
    expected = ([401, 401, 401, 429], [200, 200, 429])
    found = ([r.status_code for r in logins], [r.status_code for r in api])
    return 0 if went and found == expected else 1


if __name__ == "__main__":
    sys.exit(main())
