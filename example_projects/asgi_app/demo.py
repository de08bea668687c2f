"""`make demo`: serve the example app with uvicorn, send it a burst of real HTTP requests, and
print what each response said; the server is stopped before the program ends."""

from __future__ import annotations

import json
import random
import sys

import httpx

from example_projects.server import serve

BURST = 8
COLUMNS = (
    ("#", 3),
    ("status", 6),
    ("RateLimit", 26),
    ("X-RateLimit-Remaining", 21),
    ("X-RateLimit-Reset", 17),
    ("Retry-After", 11),
)


def row(values: list[str]) -> str:
    cells = (value.ljust(width) for value, (_, width) in zip(values, COLUMNS, strict=True))
    return "  ".join(cells).rstrip()


def show_burst(responses: list[httpx.Response]) -> bool:
    """Print the policy, one table row per response and the body of the last 429; whether
    the burst went from 200s to 429s."""
    print("RateLimit-Policy:", responses[0].headers.get("RateLimit-Policy"))
    print(row([name for name, _ in COLUMNS]))
    print(row(["-" * width for _, width in COLUMNS]))
    for number, response in enumerate(responses, 1):
        headers = response.headers
        print(row([
            str(number), str(response.status_code), headers.get("RateLimit", "-"),
            headers.get("X-RateLimit-Remaining", "-"), headers.get("X-RateLimit-Reset", "-"),
            headers.get("Retry-After", "-"),
        ]))  # fmt: skip
    refused = [r for r in responses if r.status_code == 429]
    if refused:
        print(f"\nthe last 429 ({refused[-1].headers['Content-Type']}):")
        print(json.dumps(refused[-1].json(), indent=2))
    return bool(refused) and responses[0].status_code == 200


def main() -> int:
    client_ip = f"203.0.113.{random.randint(1, 254)}"
    env = {"THROTTLE_TRUSTED_PROXIES": "127.0.0.1"}
    with serve("example_projects.asgi_app.app:app", env=env) as server:
        url = server.url
        print(f"serving example_projects/asgi_app on {url} (uvicorn, limit 5/minute per client)")
        print(f"GET / x{BURST}, as client {client_ip} behind a trusted proxy (X-Forwarded-For)\n")
        with httpx.Client(base_url=url, headers={"X-Forwarded-For": client_ip}) as client:
            responses = [client.get("/") for _ in range(BURST)]
    went = show_burst(responses)
    print("\nserver stopped.")
    return 0 if went else 1


if __name__ == "__main__":
    sys.exit(main())
