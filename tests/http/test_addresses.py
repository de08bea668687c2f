"""Key resolution for "ip": peer address × proxy headers × trusted proxies."""

from __future__ import annotations

import re

import pytest

from throttle_core import ConfigError
from throttle_core.http import ClientAddress, Headers, parse_address

PROXIES = ["10.0.0.0/8", "192.0.2.1", "2001:db8:ffff::/48"]

# (peer, headers, trusted proxies, expected key)
CASES: list[tuple[str | None, list[tuple[str, str]], list[str], str]] = [
    # No trusted proxies: the peer, whatever the headers claim.
    ("198.51.100.7", [], [], "198.51.100.7"),
    ("198.51.100.7", [("X-Forwarded-For", "203.0.113.9")], [], "198.51.100.7"),
    # Spoofed headers from an untrusted peer are ignored.
    ("198.51.100.7", [("X-Forwarded-For", "203.0.113.9")], PROXIES, "198.51.100.7"),
    ("198.51.100.7", [("Forwarded", "for=203.0.113.9")], PROXIES, "198.51.100.7"),
    # One trusted proxy: the address it appended.
    ("10.1.2.3", [("X-Forwarded-For", "203.0.113.9")], PROXIES, "203.0.113.9"),
    # The client's own spoofed entry, left of the real one, is never reached.
    ("10.1.2.3", [("X-Forwarded-For", "1.2.3.4, 203.0.113.9")], PROXIES, "203.0.113.9"),
    # A chain through several trusted proxies: the right-most untrusted address wins.
    ("10.1.2.3", [("X-Forwarded-For", "1.2.3.4, 203.0.113.9, 192.0.2.1, 10.9.9.9")], PROXIES,
     "203.0.113.9"),
    # The chain split over several header lines reads as one, in order.
    ("10.1.2.3", [("X-Forwarded-For", "1.2.3.4, 203.0.113.9"), ("x-forwarded-for", "10.9.9.9")],
     PROXIES, "203.0.113.9"),
    # Every hop trusted: the left-most address.
    ("10.1.2.3", [("X-Forwarded-For", "10.2.2.2, 10.3.3.3")], PROXIES, "10.2.2.2"),
    # Ports are dropped, IPv6 in brackets too.
    ("10.1.2.3", [("X-Forwarded-For", "203.0.113.9:4711")], PROXIES, "203.0.113.9"),
    # Malformed: garbage ends the walk at the last good address; never an error.
    ("10.1.2.3", [("X-Forwarded-For", "not-an-ip")], PROXIES, "10.1.2.3"),
    ("10.1.2.3", [("X-Forwarded-For", "garbage, 203.0.113.9")], PROXIES, "203.0.113.9"),
    ("10.1.2.3", [("X-Forwarded-For", "203.0.113.9, unknown")], PROXIES, "10.1.2.3"),
    ("10.1.2.3", [("X-Forwarded-For", "")], PROXIES, "10.1.2.3"),
    ("10.1.2.3", [("X-Forwarded-For", "300.1.1.1")], PROXIES, "10.1.2.3"),
    ("10.1.2.3", [("X-Forwarded-For", "[2001:db8::1")], PROXIES, "10.1.2.3"),
    ("10.1.2.3", [("X-Forwarded-For", "1.2.3.4:http")], PROXIES, "10.1.2.3"),
    # IPv6 is grouped to its /64; IPv4-mapped IPv6 is unwrapped; text is canonical.
    ("2001:DB8:1:2:3:4:5:6", [], [], "2001:db8:1:2::/64"),
    ("2001:db8:1:2::99", [], [], "2001:db8:1:2::/64"),
    ("::ffff:198.51.100.7", [], [], "198.51.100.7"),
    ("fe80::1%eth0", [], [], "fe80::/64"),
    ("::ffff:10.1.2.3", [("X-Forwarded-For", "203.0.113.9")], PROXIES, "203.0.113.9"),
    ("2001:db8:ffff:1::1", [("X-Forwarded-For", "2001:db8:1:2::1")], PROXIES,
     "2001:db8:1:2::/64"),
    # A peer that is no address (a test client, a socket name) is its own key; no peer at all
    # (a Unix socket) is "unknown".
    ("testclient", [("X-Forwarded-For", "203.0.113.9")], PROXIES, "testclient"),
    (None, [("X-Forwarded-For", "203.0.113.9")], PROXIES, "unknown"),
    # The default header is X-Forwarded-For alone: a Forwarded header is never a fallback.
    ("10.1.2.3", [("Forwarded", "for=203.0.113.9")], PROXIES, "10.1.2.3"),
]  # fmt: skip

# The same, behind proxies that write RFC 7239 Forwarded (proxy_header="forwarded").
FORWARDED: list[tuple[str | None, list[tuple[str, str]], list[str], str]] = [
    # RFC 7239 Forwarded: quoted IPv6 with a port, several elements, other parameters.
    ("10.1.2.3", [("Forwarded", 'for="[2001:db8:cafe::17]:4711";proto=https')], PROXIES,
     "2001:db8:cafe::/64"),
    ("10.1.2.3", [("Forwarded", "for=1.2.3.4, for=203.0.113.9;by=10.1.2.3, for=10.9.9.9")],
     PROXIES, "203.0.113.9"),
    ("10.1.2.3", [("Forwarded", 'FOR=203.0.113.9;host="a,b;c"')], PROXIES, "203.0.113.9"),
    ("10.1.2.3", [("Forwarded", "for=_hidden, for=203.0.113.9")], PROXIES, "203.0.113.9"),
    ("10.1.2.3", [("Forwarded", "for=203.0.113.9, for=_hidden")], PROXIES, "10.1.2.3"),
    ("10.1.2.3", [("Forwarded", "proto=https")], PROXIES, "10.1.2.3"),
    ("10.1.2.3", [("Forwarded", 'for="unterminated')], PROXIES, "10.1.2.3"),
    # Only the named header is read: a client's own X-Forwarded-For passes through unread.
    ("10.1.2.3", [("Forwarded", "for=198.51.100.1"), ("X-Forwarded-For", "203.0.113.9")],
     PROXIES, "198.51.100.1"),
]  # fmt: skip


@pytest.mark.parametrize(("peer", "headers", "trusted", "expected"), CASES)
def test_client_key(
    peer: str | None, headers: list[tuple[str, str]], trusted: list[str], expected: str
) -> None:
    assert ClientAddress(trusted)(peer, Headers(headers)) == expected


@pytest.mark.parametrize(("peer", "headers", "trusted", "expected"), FORWARDED)
def test_client_key_from_forwarded(
    peer: str | None, headers: list[tuple[str, str]], trusted: list[str], expected: str
) -> None:
    client = ClientAddress(trusted, proxy_header="forwarded")
    assert client(peer, Headers(headers)) == expected


def test_x_real_ip_names_the_client_a_proxy_saw() -> None:
    client = ClientAddress(["10.0.0.0/8"], proxy_header="x-real-ip")
    headers = Headers([("X-Real-IP", "203.0.113.9"), ("X-Forwarded-For", "198.51.100.1")])
    assert client("10.0.0.1", headers) == "203.0.113.9"
    assert client("198.51.100.7", headers) == "198.51.100.7"
    assert client("10.0.0.1", Headers([("X-Real-IP", "garbage")])) == "10.0.0.1"


def test_a_client_rotating_other_headers_stays_one_client() -> None:
    """Behind a proxy writing Forwarded, a client's rotating X-Forwarded-For changes nothing."""
    client = ClientAddress(["10.0.0.0/8"], proxy_header="forwarded")
    keys = {
        client("10.0.0.1", Headers([("Forwarded", "for=203.0.113.9"),
                                    ("X-Forwarded-For", f"198.51.{n // 256}.{n % 256}"),
                                    ("X-Real-IP", f"192.0.2.{n % 256}")]))
        for n in range(2000)
    }  # fmt: skip
    assert keys == {"203.0.113.9"}


def test_raw_asgi_header_bytes_are_read_as_latin_1() -> None:
    headers = Headers([(b"x-forwarded-for", b"203.0.113.9")])
    assert ClientAddress(["10.0.0.0/8"])("10.0.0.1", headers) == "203.0.113.9"


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [(128, "2001:db8:1:2:3:4:5:6"), (48, "2001:db8:1::/48"), (64, "2001:db8:1:2::/64")],
)
def test_ipv6_grouping_is_configurable(prefix: int, expected: str) -> None:
    client = ClientAddress(ipv6_prefix=prefix)
    assert client("2001:db8:1:2:3:4:5:6", Headers()) == expected
    assert client("198.51.100.7", Headers()) == "198.51.100.7"


def test_proxy_header_can_be_pinned_to_one_header() -> None:
    headers = Headers([("Forwarded", "for=198.51.100.1"), ("X-Forwarded-For", "203.0.113.9")])
    forwarded = ClientAddress(["10.0.0.0/8"], proxy_header="forwarded")
    assert forwarded("10.0.0.1", headers) == "198.51.100.1"
    xff = ClientAddress(["10.0.0.0/8"], proxy_header="x-forwarded-for")
    assert xff("10.0.0.1", Headers([("Forwarded", "for=198.51.100.1")])) == "10.0.0.1"


def test_a_single_string_is_one_trusted_proxy() -> None:
    headers = Headers([("X-Forwarded-For", "203.0.113.9")])
    assert ClientAddress("10.0.0.0/8")("10.0.0.1", headers) == "203.0.113.9"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"trusted_proxies": ["10.0.0.0/33"]}, "'10.0.0.0/33' is not an address or network"),
        ({"trusted_proxies": ["proxy.local"]}, "'proxy.local' is not an address or network"),
        ({"trusted_proxies": [10]}, "must be strings, got 10"),
        ({"ipv6_prefix": 0}, "ipv6_prefix must be from 1 to 128, got 0"),
        ({"ipv6_prefix": True}, "ipv6_prefix must be an int"),
        ({"proxy_header": "auto"},
         "proxy_header must be one of x-forwarded-for, forwarded, x-real-ip; got 'auto'"),
        ({"trusted_proxies": ["10.0.0.1/8"]},
         "'10.0.0.1/8' has host bits set: write the network exactly ('10.0.0.0/8')"),
        ({"trusted_proxies": 5}, "trusted_proxies must be a list of addresses or networks"),
        ({"trusted_proxies": None}, "trusted_proxies must be a list of addresses or networks"),
    ],
)  # fmt: skip
def test_bad_options_name_the_bad_value(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        ClientAddress(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  203.0.113.9 ", "203.0.113.9"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[::ffff:1.2.3.4]:80", "1.2.3.4"),
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:db8::1]x", None),
        ("1.2.3.4:", None),
        ("", None),
        ("01.2.3.4", None),
    ],
)
def test_parse_address(text: str, expected: str | None) -> None:
    address = parse_address(text)
    assert (None if address is None else str(address)) == expected


def test_peer_key_is_the_key_of_every_request_from_a_peer_no_header_can_change() -> None:
    client = ClientAddress(["10.0.0.0/8"])
    spoofed = Headers([("X-Forwarded-For", "203.0.113.9")])
    assert client.peer_key("198.51.100.7") == client("198.51.100.7", spoofed) == "198.51.100.7"
    assert client.peer_key("2001:db8::1") == "2001:db8::/64"
    assert client.peer_key(None) == client(None, spoofed) == "unknown"
    assert client.peer_key("not an address") == "not an address"
    assert client.peer_key("10.0.0.1") is None
    assert client("10.0.0.1", spoofed) == "203.0.113.9"
