"""RateLimitMiddleware through httpx's ASGI transport (Starlette's TestClient for WebSockets)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.asgi.apps import CHUNKS, PEER, ROUTES, Calls, client, limited
from tests.conftest import START
from tests.http.problems import quota_exceeded
from throttle_asgi import Decision, RateLimitMiddleware, Rule
from throttle_asgi.scope import request_view
from throttle_core import ConfigError, FrozenClock, InMemoryStorage

PROBLEM = quota_exceeded("3-per-minute", 60)


async def test_200s_then_429_with_body_and_headers() -> None:
    app = limited(limits=["3/minute"], clock=FrozenClock(START))
    before = Calls.count
    async with client(app) as http:
        responses = [await http.get("/") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert Calls.count == before + 3
    ok = responses[0]
    assert ok.text == "hello"
    assert ok.headers["RateLimit-Policy"] == '"3-per-minute";q=3;w=60'
    assert ok.headers["RateLimit"] == '"3-per-minute";r=2;t=60'
    assert ok.headers["X-RateLimit-Limit"] == "3"
    assert ok.headers["X-RateLimit-Remaining"] == "2"
    assert ok.headers["X-RateLimit-Reset"] == str(int(START) + 60)
    refused = responses[3]
    assert refused.json() == PROBLEM
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.headers["Cache-Control"] == "no-store"
    assert refused.headers["Retry-After"] == "60"
    assert refused.headers["RateLimit"] == '"3-per-minute";r=0;t=60'
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["Content-Length"] == str(len(refused.content))


async def test_method_and_path_rules() -> None:
    login = Rule("1/minute", paths=[r"^/login$"], methods=["POST"], id="login")
    app = limited(rules=[login], clock=FrozenClock(START))
    async with client(app) as http:
        gets = [await http.get("/login") for _ in range(3)]
        posts = [await http.post("/login") for _ in range(2)]
        elsewhere = await http.post("/")
    assert [r.status_code for r in gets] == [200, 200, 200]
    assert "RateLimit" not in gets[0].headers
    assert [r.status_code for r in posts] == [200, 429]
    assert posts[1].json()["violated-policies"] == ["login"]
    assert elsewhere.status_code == 200
    assert "RateLimit" not in elsewhere.headers


@pytest.mark.parametrize("installed", ["wrapped", "starlette-middleware"])
async def test_exempt_paths_and_routes(installed: str) -> None:
    options: dict[str, Any] = {
        "limits": ["1/minute"],
        "rules": [Rule(exempt=True, paths=[r"^/stream$"])],
        "clock": FrozenClock(START),
    }
    if installed == "wrapped":
        app: Any = limited(**options)
    else:
        app = Starlette(routes=ROUTES, middleware=[Middleware(RateLimitMiddleware, **options)])
    async with client(app) as http:
        for path in ("/stream", "/health", "/sub/ping"):
            for _ in range(3):
                response = await http.get(path)
                assert response.status_code == 200
                assert "RateLimit" not in response.headers
        assert (await http.get("/sub/pong")).status_code == 200
        assert (await http.get("/sub/pong")).status_code == 429


async def test_streaming_response_arrives_intact_with_headers() -> None:
    app = limited(limits=["2/minute"], clock=FrozenClock(START))
    async with client(app) as http:
        response = await http.get("/stream")
    assert response.status_code == 200
    assert response.content == b"".join(CHUNKS)
    assert response.headers["RateLimit"] == '"2-per-minute";r=1;t=60'


async def test_response_start_is_sent_once_and_body_messages_pass_untouched() -> None:
    sent: list[Message] = []

    async def streaming_app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"a", b"1")]})
        for chunk in CHUNKS:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    middleware = RateLimitMiddleware(streaming_app, limits=["2/minute"], headers="draft-6")
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "client": PEER}
    await middleware(scope, receive, send)
    assert [m["type"] for m in sent].count("http.response.start") == 1
    assert sent[0]["headers"][0] == (b"a", b"1")
    assert (b"ratelimit-remaining", b"1") in sent[0]["headers"]
    assert sent[1:] == [
        *({"type": "http.response.body", "body": c, "more_body": True} for c in CHUNKS),
        {"type": "http.response.body", "body": b"", "more_body": False},
    ]


async def test_lifespan_and_other_scopes_pass_straight_through() -> None:
    seen: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)

    middleware = RateLimitMiddleware(app, limits=["1/minute"])

    async def nothing() -> Message:
        return {}

    async def ignore(message: Message) -> None:
        return None

    for kind in ("lifespan", "lifespan", "custom"):
        await middleware({"type": kind}, nothing, ignore)
    assert [s["type"] for s in seen] == ["lifespan", "lifespan", "custom"]


def test_websockets_pass_unless_a_rule_names_them() -> None:
    with TestClient(limited(limits=["1/minute"], clock=FrozenClock(START))) as http:
        for n in range(3):
            with http.websocket_connect("/ws") as socket:
                socket.send_text(str(n))
                assert socket.receive_text() == f"hi {n}"
                assert not socket.extra_headers
    named = limited(rules=[Rule("1/minute", methods=["WEBSOCKET"])], clock=FrozenClock(START))
    with TestClient(named) as http:
        with http.websocket_connect("/ws") as socket:
            socket.send_text("a")
            assert socket.receive_text() == "hi a"
            assert (b"ratelimit", b'"1-per-minute";r=0;t=60') in socket.extra_headers
        with pytest.raises(WebSocketDenialResponse) as denied, http.websocket_connect("/ws"):
            pass
        assert denied.value.status_code == 429
        assert denied.value.headers["Retry-After"] == "60"
        assert denied.value.json()["status"] == 429


async def test_a_refused_websocket_without_denial_responses_is_closed_with_1008() -> None:
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("a refused connection must not reach the app")

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    middleware = RateLimitMiddleware(app, rules=[Rule("1/hour", methods=["WEBSOCKET"])])
    scope = {"type": "websocket", "path": "/ws", "headers": [], "client": PEER}
    with pytest.raises(AssertionError):
        await middleware(scope, receive, send)
    await middleware(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": "rate limited"}]


class BrokenStorage(InMemoryStorage):
    async def aconsume(self, *args: Any) -> Any:
        raise ConnectionError("storage down")


async def test_a_failing_storage_gives_200_when_fail_open_and_503_otherwise() -> None:
    async with client(limited(limits=["1/minute"], storage=BrokenStorage())) as http:
        responses = [await http.get("/") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[0].text == "hello"
    closed = limited(limits=["1/minute"], storage=BrokenStorage(), fail_open=False)
    async with client(closed) as http:
        response = await http.get("/")
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Service Unavailable"


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_on_reject_builds_the_response_and_headers_are_added(flavour: str) -> None:
    def sync_reject(request: HTTPConnection, decision: Decision) -> Response:
        assert isinstance(request, Request)
        return PlainTextResponse(
            f"slow down, {request.url.path}: {decision.violated[0]}",
            429,
            headers={"Retry-After": "120"},
        )

    async def async_reject(request: HTTPConnection, decision: Decision) -> Response:
        return sync_reject(request, decision)

    on_reject = sync_reject if flavour == "sync" else async_reject
    app = limited(limits=["1/minute"], on_reject=on_reject, clock=FrozenClock(START))
    async with client(app) as http:
        await http.get("/login")
        refused = await http.get("/login")
    assert refused.status_code == 429
    assert refused.text == "slow down, /login: 1-per-minute"
    assert refused.headers.get_list("Retry-After") == ["120"]
    assert refused.headers["RateLimit"] == '"1-per-minute";r=0;t=60'


async def test_headers_the_app_sets_itself_are_left_alone() -> None:
    async with client(limited(limits=["5/minute"], headers="legacy")) as http:
        response = await http.get("/own")
    assert response.headers.get_list("X-RateLimit-Limit") == ["mine"]
    assert response.headers["X-RateLimit-Remaining"] == "4"


async def test_disabled_and_headerless() -> None:
    async with client(limited(limits=["1/minute"], enabled=False)) as http:
        responses = [await http.get("/") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert "RateLimit" not in responses[0].headers
    headerless = limited(limits=["1/minute"], headers="none", clock=FrozenClock(START))
    async with client(headerless) as http:
        ok, refused = await http.get("/"), await http.get("/")
    assert [h for h in ok.headers if "ratelimit" in h] == []
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"


async def test_clients_behind_a_trusted_proxy_are_told_apart() -> None:
    app = limited(limits=["1/minute"], trusted_proxies=["10.0.0.0/8"])
    async with client(app, peer=("10.0.0.2", 4000)) as http:
        first = await http.get("/", headers={"X-Forwarded-For": "203.0.113.1"})
        second = await http.get("/", headers={"X-Forwarded-For": "203.0.113.2"})
        again = await http.get("/", headers={"X-Forwarded-For": "203.0.113.1"})
    assert [first.status_code, second.status_code, again.status_code] == [200, 200, 429]
    spoofed = limited(limits=["1/minute"], trusted_proxies=["10.0.0.0/8"])
    async with client(spoofed, peer=("198.51.100.9", 4000)) as http:
        statuses = [
            (await http.get("/", headers={"X-Forwarded-For": f"203.0.113.{n}"})).status_code
            for n in range(2)
        ]
    assert statuses == [200, 429]


class HeaderAuth(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser] | None:
        name = conn.headers.get("X-User")
        return (AuthCredentials(["authenticated"]), SimpleUser(name)) if name else None


async def test_user_key_reads_starlettes_authenticated_user() -> None:
    app = Starlette(
        routes=ROUTES,
        middleware=[
            Middleware(AuthenticationMiddleware, backend=HeaderAuth()),
            Middleware(RateLimitMiddleware, limits=["1/minute"], key="user"),
        ],
    )
    async with client(app) as http:
        statuses = [
            (await http.get("/", headers=headers)).status_code
            for headers in ({"X-User": "alice"}, {"X-User": "bob"}, {}, {"X-User": "alice"}, {})
        ]
    assert statuses == [200, 200, 200, 429, 429]


class CountedUser:
    """A user whose authentication state counts how often it is read."""

    reads = 0

    @property
    def is_authenticated(self) -> bool:
        CountedUser.reads += 1
        return True

    @property
    def identity(self) -> str:
        return "carol"


class SetUser:
    """A stand-in for an authentication middleware: puts a `CountedUser` in the scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["user"] = CountedUser()
        await self.app(scope, receive, send)


@pytest.mark.parametrize(
    ("rules", "reads"),
    [
        ([Rule("5/minute")], 0),
        ([Rule("5/minute"), Rule("5/minute", key="user", paths=[r"^/elsewhere$"])], 0),
        ([Rule("5/minute"), Rule("5/minute", key="user")], 2),
    ],
)
async def test_the_user_is_read_only_when_a_matched_rule_counts_by_user(
    rules: list[Rule], reads: int
) -> None:
    CountedUser.reads = 0
    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(SetUser), Middleware(RateLimitMiddleware, rules=rules)],
    )
    async with client(app) as http:
        statuses = [(await http.get("/")).status_code for _ in range(2)]
    assert statuses == [200, 200]
    assert CountedUser.reads == reads


async def test_callable_keys_get_a_starlette_request_sync_or_async() -> None:
    async def tenant(request: Request) -> str | None:
        return request.query_params.get("tenant")

    rules = [
        Rule("1/minute", key=tenant, id="tenant"),
        Rule("2/minute", key=lambda request: request.headers.get("X-Team"), id="team"),
    ]
    async with client(limited(rules=rules)) as http:
        a1 = await http.get("/?tenant=a")
        b1 = await http.get("/?tenant=b")
        a2 = await http.get("/?tenant=a")
        anonymous = [(await http.get("/")).status_code for _ in range(3)]
        team = [(await http.get("/", headers={"X-Team": "x"})).status_code for _ in range(3)]
    assert [a1.status_code, b1.status_code, a2.status_code] == [200, 200, 429]
    assert a2.json()["violated-policies"] == ["tenant"]
    assert anonymous == [200, 200, 200]
    assert team == [200, 200, 429]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"limits": ["100 per fortnight"]}, "'fortnight' is not a duration"),
        ({"on_reject": "json"}, "on_reject must be a callable, got 'json'"),
        ({"headers": ["ietf", "draft-7"]}, "both write RateLimit fields"),
    ],
)
def test_options_are_validated_once_at_construction(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RateLimitMiddleware(Starlette(), **options)


def test_the_request_object_is_built_only_for_key_functions() -> None:
    scope: Scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"x-team", b"a")]}
    assert isinstance(request_view(scope).request, Request)
    bare = request_view(scope, with_request=False)
    assert bare.request is None
    assert (bare.method, bare.peer, bare.headers.get("X-Team")) == ("GET", None, "a")
    websocket = request_view({**scope, "type": "websocket"})
    assert websocket.method == "WEBSOCKET"
    assert type(websocket.request) is HTTPConnection
    assert not RateLimitMiddleware(PlainTextResponse("ok"), limits="1/minute").limiter.needs_request
