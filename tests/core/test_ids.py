"""State ids: escaped parts, hashed long parts, no collisions."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from throttle_core import InMemoryStorage, RateLimiterFactory
from throttle_core.ids import escape_part, state_id


def test_plain_parts_pass_through() -> None:
    assert state_id("api", "user-123") == "api:user-123"
    assert state_id("api", None) == "api"
    assert state_id("api", "") == "api"


def test_separator_percent_and_unprintables_are_encoded() -> None:
    assert state_id("api", "a:b") == "api:a%3Ab"
    assert state_id("api:a", "b") == "api%3Aa:b"
    assert escape_part("50%") == "50%25"
    assert escape_part("a b\n\x00") == "a%20b%0A%00"
    assert escape_part("é{}") == "%C3%A9{}"


def test_long_parts_are_hashed() -> None:
    long = "x" * 201
    assert escape_part(long) == "%sha256-" + hashlib.sha256(long.encode()).hexdigest()
    assert escape_part("x" * 200) == "x" * 200
    assert escape_part("é" * 101).startswith("%sha256-")


def test_no_key_spells_a_long_key_s_hashed_form() -> None:
    long = "x" * 201
    spelled = "sha256-" + hashlib.sha256(long.encode()).hexdigest()
    assert state_id("api", long) != state_id("api", spelled)
    assert state_id("api", "%" + spelled) != state_id("api", long)
    storage = InMemoryStorage()
    factory = RateLimiterFactory("1/minute", storage)
    assert factory.create(long).consume().accepted
    assert factory.create(spelled).consume().accepted


def test_int_keys_are_their_decimal_text() -> None:
    factory = RateLimiterFactory("1/minute", InMemoryStorage())
    assert factory.create(123).id == factory.create("123").id == "1-per-minute:123"
    assert factory.create(0).id == "1-per-minute:0"
    assert factory.create(-7).id == "1-per-minute:-7"
    assert factory.create(123).consume().accepted
    assert not factory.create("123").consume().accepted


@pytest.mark.parametrize("key", [b"x", 1.5, True, ["a"], object()], ids=repr)
def test_other_keys_are_a_type_error_saying_what_a_key_must_be(key: object) -> None:
    factory = RateLimiterFactory("1/minute", InMemoryStorage())
    with pytest.raises(TypeError, match=r"a limiter key must be a str \(an int is taken as"):
        factory.create(key)  # type: ignore[arg-type]


def test_the_factory_uses_these_ids() -> None:
    storage = InMemoryStorage()
    factory = RateLimiterFactory("3/minute", storage)
    factory.create("a:b").consume()
    assert storage.fetch("3-per-minute:a%3Ab") is not None


@given(st.text(min_size=1, max_size=50), st.text(max_size=50),
       st.text(min_size=1, max_size=50), st.text(max_size=50))  # fmt: skip
def test_equal_ids_only_for_equal_pairs(id1: str, key1: str, id2: str, key2: str) -> None:
    if state_id(id1, key1) == state_id(id2, key2):
        assert (id1, key1) == (id2, key2)


@given(st.text(max_size=300))
def test_escaped_parts_are_printable_and_bounded(part: str) -> None:
    escaped = escape_part(part)
    assert ":" not in escaped
    assert ("%s" in escaped) == escaped.startswith("%sha256-")
    assert all(0x21 <= ord(c) <= 0x7E for c in escaped)
    assert len(escaped) <= 600
