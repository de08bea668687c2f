"""`make demo`, Flask part: serve the example app with gunicorn, send it a burst of real HTTP
requests, and print what each response said; the server is stopped before the program ends."""

from __future__ import annotations

import random
import sys

import httpx

from example_projects.asgi_app.demo import BURST, show_burst
from example_projects.server import serve


def main() -> int:
    client_ip = f"203.0.113.{random.randint(1, 254)}"
    env = {"THROTTLE_TRUSTED_PROXIES": "127.0.0.1"}
    with serve("example_projects.flask_app.app:app", server="gunicorn", env=env) as server:
        url = server.url
        print(f"serving example_projects/flask_app on {url} (gunicorn, limit 5/minute per client)")
        print(f"GET / x{BURST}, as client {client_ip} behind a trusted proxy (X-Forwarded-For)\n")
        with httpx.Client(base_url=url, headers={"X-Forwarded-For": client_ip}) as client:
            responses = [client.get("/") for _ in range(BURST)]
        login_ip = f"198.51.100.{random.randint(1, 254)}"
        with httpx.Client(base_url=url, headers={"X-Forwarded-For": login_ip}) as client:
            logins = [client.post("/login", data={"password": "guess"}) for _ in range(4)]
            logins.append(client.post("/login", data={"password": "demo"}))
    went = show_burst(responses)
    print(f"\nPOST /login as client {login_ip}: a wrong password x4, then the right one")
    print("(3 failed logins a minute; a successful login is not counted, but waits too):")
    for response in logins:
        print(f"  {response.status_code}  RateLimit: {response.headers.get('RateLimit', '-')}")
    print("\nserver stopped.")
    statuses = [r.status_code for r in logins]
    expected = [401, 401, 401, 429, 429]
    return 0 if went and statuses == expected else 1


if __name__ == "__main__":
    sys.exit(main())
