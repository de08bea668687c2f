"""`make demo`'s one driver: serve an example project with a real server, send it a burst of
real HTTP requests as one client behind a trusted proxy, then the project's own scenes (a
login form, an API key), and print what each response said; the server is stopped before
the answers are printed."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from example_projects.server import ServerKind, serve

BURST = 8
COLUMNS = (
    ("#", 3),
    ("status", 6),
    ("RateLimit", 26),
    ("X-RateLimit-Remaining", 21),
    ("X-RateLimit-Reset", 17),
    ("Retry-After", 11),
)


@dataclass(frozen=True)
class Scene:
    """Requests one client sends after the burst (`send`, with `headers` on each), from an
    address of `network` ("198.51.100."); `title` (`{client}` is that address) is printed
    above their answers, which must have the `expected` statuses."""

    title: str
    network: str
    send: Callable[[httpx.Client], list[httpx.Response]]
    expected: Sequence[int]
    headers: Mapping[str, str] = field(default_factory=dict)


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


def show_scene(scene: Scene, client: str, responses: list[httpx.Response]) -> bool:
    """Print the scene's title and each answer's status and `RateLimit`; whether the
    statuses were the expected ones."""
    print(f"\n{scene.title.format(client=client)}")
    for response in responses:
        print(f"  {response.status_code}  RateLimit: {response.headers.get('RateLimit', '-')}")
    return [r.status_code for r in responses] == list(scene.expected)


def address(network: str) -> str:
    return f"{network}{random.randint(1, 254)}"


def run(
    app: str,
    *,
    server: ServerKind,
    about: str,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    scenes: Sequence[Scene] = (),
) -> int:
    """Serve `app` ("module:attribute") with `server` and `workers` workers, `env` added to
    the environment and 127.0.0.1 trusted as a proxy; send `GET /` `BURST` times as one
    client, then each scene; print it all (`about` describes the server in the heading).
    Exit status 0 when the burst ended in 429s and every scene got its statuses."""
    project = app.partition(":")[0].rpartition(".")[0].replace(".", "/")
    client = address("203.0.113.")
    answers = []
    with serve(
        app,
        server=server,
        workers=workers,
        env={"THROTTLE_TRUSTED_PROXIES": "127.0.0.1", **(env or {})},
    ) as running:
        print(f"serving {project} on {running.url} ({about})")
        print(f"GET / x{BURST}, as client {client} behind a trusted proxy (X-Forwarded-For)\n")
        with httpx.Client(base_url=running.url, headers={"X-Forwarded-For": client}) as http:
            burst = [http.get("/") for _ in range(BURST)]
        for scene in scenes:
            sender = address(scene.network)
            headers = {"X-Forwarded-For": sender, **scene.headers}
            with httpx.Client(base_url=running.url, headers=headers) as http:
                answers.append((scene, sender, scene.send(http)))
    went = show_burst(burst)
    shown = [show_scene(scene, sender, responses) for scene, sender, responses in answers]
    print("\nserver stopped.")
    return 0 if went and all(shown) else 1
