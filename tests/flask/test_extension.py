"""The extension pattern: `Throttle(app)` or `init_app`, `THROTTLE_*` config checked at
`init_app` (keywords win), per-app state, one `Throttle` over several apps."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.conftest import START
from tests.flask.apps import PEER, get, make_app, statuses
from throttle_core import ConfigError, FrozenClock, InMemoryStorage
from throttle_flask import Throttle
from throttle_flask.extension import AppThrottle


def hello() -> str:
    return "hello"


def test_throttle_app_reads_the_prefixed_config() -> None:
    app = Flask(__name__)
    app.config.update(THROTTLE_LIMITS="2/minute", THROTTLE_HEADERS="draft-7", SECRET_KEY="x")
    Throttle(app)
    app.add_url_rule("/", "hello", hello)
    client = app.test_client()
    first = get(client)
    assert first.headers["RateLimit"].startswith("limit=2, remaining=1, reset=")
    assert "X-RateLimit-Limit" not in first.headers
    assert [get(client).status_code for _ in range(2)] == [200, 429]
    assert isinstance(app.extensions["throttle"], AppThrottle)


def test_keywords_win_over_the_config() -> None:
    app, _ = make_app(Throttle(limits="1/minute", headers="legacy"), LIMITS="5/minute")
    app.add_url_rule("/", "hello", hello)
    client = app.test_client()
    assert get(client).headers["X-RateLimit-Limit"] == "1"
    assert "RateLimit" not in get(client).headers


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"THROTTLE_LIMTS": "1/minute"}, "'THROTTLE_LIMTS'; did you mean 'THROTTLE_LIMITS'?"),
        ({"THROTTLE_USR": lambda: None}, "did you mean 'THROTTLE_USER'?"),
        ({"THROTTLE_RULES": [{"limit": "1/minute", "path": "^/"}]}, "unknown rule field 'path'"),
        ({"THROTTLE_HEADERS": "ietf-10"}, "THROTTLE_HEADERS: headers style must be one of"),
        ({"THROTTLE_USER": "alice"}, "THROTTLE_USER must be a plain function"),
        ({"THROTTLE_KEY": lambda request: None}, None),
    ],
)  # fmt: skip
def test_a_bad_config_key_is_a_config_error_at_init_app(
    config: dict[str, object], message: str | None
) -> None:
    app = Flask(__name__)
    app.config.update(config)
    throttle = Throttle()
    if message is None:
        throttle.init_app(app)
        return
    with pytest.raises(ConfigError) as error:
        throttle.init_app(app)
    assert message in str(error.value)
    assert "throttle" not in app.extensions


def test_bad_keywords_are_refused_at_construction() -> None:
    with pytest.raises(ConfigError, match="unknown option 'limts'; did you mean 'limits'"):
        Throttle(limts="1/minute")  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="fail_open must be True or False"):
        Throttle(fail_open="yes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="must be a plain function"):
        Throttle(user="alice")  # type: ignore[arg-type]

    async def key(request: object) -> str:
        return "k"

    with pytest.raises(ConfigError, match="is async"):
        make_app(Throttle(key=key))


def test_init_app_twice_on_one_app_is_refused() -> None:
    app, throttle = make_app()
    with pytest.raises(ConfigError, match="already initialised"):
        throttle.init_app(app)


def test_one_throttle_over_several_apps_counts_each_apart() -> None:
    throttle = Throttle(limits="2/minute")

    @throttle.limit("1/minute")
    def limited() -> str:
        return "limited"

    apps = [make_app(throttle)[0] for _ in range(2)]
    for app in apps:
        app.add_url_rule("/", "hello", hello)
        app.add_url_rule("/limited", "limited", limited)
    clients = [app.test_client() for app in apps]
    assert statuses(clients[0]) == [200, 200, 429]
    assert statuses(clients[1]) == [200, 200, 429]
    assert statuses(clients[0], "/limited", 1) == [429]
    assert apps[0].extensions["throttle"] is not apps[1].extensions["throttle"]


def test_apps_sharing_a_storage_share_counters() -> None:
    storage = InMemoryStorage(clock=FrozenClock(START))
    throttle = Throttle(limits="3/minute", storage=storage)
    apps = [make_app(throttle)[0] for _ in range(2)]
    for app in apps:
        app.add_url_rule("/", "hello", hello)
    first, second = (app.test_client() for app in apps)
    assert [get(first).status_code, get(second).status_code, get(first).status_code] == [200] * 3
    assert get(second).status_code == 429


def test_a_storage_url_in_the_config() -> None:
    app = Flask(__name__)
    app.config["THROTTLE_STORAGE"] = "memory://"
    app.config["THROTTLE_LIMITS"] = ["1/minute"]
    Throttle(app)
    app.add_url_rule("/", "hello", hello)
    client = app.test_client()
    assert [get(client).status_code, get(client).status_code] == [200, 429]
    assert get(client, peer="203.0.113.9").status_code == 200
    assert PEER != "203.0.113.9"


def test_disabled_limits_nothing() -> None:
    app, _ = make_app(LIMITS="1/minute", ENABLED=False)
    app.add_url_rule("/", "hello", hello)
    client = app.test_client()
    responses = [get(client) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert "RateLimit" not in responses[0].headers
