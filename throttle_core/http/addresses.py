"""The client's address behind proxies: trusted proxies, the one header they write
(`X-Forwarded-For`, `Forwarded` or `X-Real-IP`), canonical addresses, and IPv6 grouping (one
client usually owns a whole /64)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from throttle_core.errors import ConfigError
from throttle_core.http.request import Headers
from throttle_core.messages import short

IPAddress = IPv4Address | IPv6Address
PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")
DEFAULT_PROXY_HEADER = "x-forwarded-for"
UNKNOWN = "unknown"
"""The client key of a request whose server reported no peer (a Unix socket)."""

_ELEMENT = re.compile(r'(?:[^,"]|"(?:[^"\\]|\\.)*")+')
_PAIR = re.compile(r'(?:[^;"]|"(?:[^"\\]|\\.)*")+')
_ESCAPE = re.compile(r"\\(.)")


def parse_address(text: str) -> IPAddress | None:
    """The address in `text` ("203.0.113.7", "203.0.113.7:443", "[2001:db8::1]:443",
    "fe80::1%eth0"), with IPv4-mapped IPv6 unwrapped; None when it holds no address."""
    value = text.strip()
    if value.startswith("["):
        host, bracket, port = value[1:].partition("]")
        if not bracket or (port and not (port[0] == ":" and port[1:].isdigit())):
            return None
        value = host
    elif value.count(":") == 1:
        value, _, port = value.partition(":")
        if not port.isdigit():
            return None
    try:
        address = ip_address(value.partition("%")[0])
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def forwarded_for(values: Iterable[str]) -> list[str | None]:
    """The `for=` value of each element of RFC 7239 `Forwarded` header values, in order (None
    for an element without one); quoted strings are unquoted."""
    found: list[str | None] = []
    for value in values:
        for element in _ELEMENT.findall(value):
            node = None
            for pair in _PAIR.findall(element):
                name, _, raw = pair.partition("=")
                if name.strip().lower() == "for":
                    raw = raw.strip()
                    quoted = len(raw) > 1 and raw[0] == raw[-1] == '"'
                    node = _ESCAPE.sub(r"\1", raw[1:-1]) if quoted else raw
            found.append(node)
    return found


def _network(entry: object) -> IPv4Network | IPv6Network:
    if not isinstance(entry, str):
        raise ConfigError(f"trusted_proxies entries must be strings, got {entry!r}")
    try:
        return ip_network(entry.strip())
    except ValueError as error:
        if "host bits set" in str(error):
            wide = ip_network(entry.strip(), strict=False)
            raise ConfigError(
                f"trusted_proxies entry {entry!r} has host bits set: write the network "
                f"exactly ({str(wide)!r}) or the single address"
            ) from None
        raise ConfigError(
            f"trusted_proxies entry {entry!r} is not an address or network (e.g. '10.0.0.0/8')"
        ) from None


def trusted_networks(value: object) -> tuple[IPv4Network | IPv6Network, ...]:
    """The networks of a `trusted_proxies` option: one address or network, or a list of them."""
    if isinstance(value, str):
        return (_network(value),)
    if isinstance(value, Iterable) and not isinstance(value, bytes | Mapping):
        return tuple(_network(entry) for entry in value)
    raise ConfigError(
        f"trusted_proxies must be a list of addresses or networks (e.g. ['10.0.0.0/8']), "
        f"got {value!r}"
    )


def ipv6_prefix_length(value: object) -> int:
    """An `ipv6_prefix` option: the prefix length (1 to 128) an IPv6 client key covers."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"ipv6_prefix must be an int from 1 to 128, got {short(value)}")
    if not 1 <= value <= 128:
        raise ConfigError(f"ipv6_prefix must be from 1 to 128, got {short(value)}")
    return value


def proxy_header_name(value: object) -> str:
    """A `proxy_header` option: the one header trusted proxies write."""
    if not isinstance(value, str) or value not in PROXY_HEADERS:
        raise ConfigError(f"proxy_header must be one of {', '.join(PROXY_HEADERS)}; got {value!r}")
    return value


class ClientAddress:
    """Finds the client key for `"ip"`: the peer address, unless the peer is a trusted proxy;
    then the forwarding chain is walked from the right and the first untrusted address wins.
    An unparseable hop ends the walk at the last address known good, so a malformed or spoofed
    header is ignored and never an error. Exactly one header is read, `proxy_header`: the one
    the proxy writes (a proxy writing one passes a client's other ones through unchanged).
    IPv6 keys cover the address's /`ipv6_prefix`."""

    def __init__(
        self,
        trusted_proxies: Iterable[str] | str = (),
        *,
        ipv6_prefix: int = 64,
        proxy_header: str = DEFAULT_PROXY_HEADER,
    ) -> None:
        self.networks = trusted_networks(trusted_proxies)
        self.ipv6_prefix = ipv6_prefix_length(ipv6_prefix)
        self.proxy_header = proxy_header_name(proxy_header)
        self._peer = lru_cache(maxsize=4096)(self._classify)

    def __call__(self, peer: str | None, headers: Headers) -> str:
        """The client key of a request from `peer` carrying `headers`."""
        if peer is None:
            return UNKNOWN
        address, key, trusted = self._peer(peer)
        if not trusted or address is None:
            return key
        return self.key(self.walk(address, self.chain(headers)))

    def peer_key(self, peer: str | None) -> str | None:
        """The client key of every request from `peer` when no header can change it (`peer`
        is no trusted proxy); None when the headers decide it."""
        if peer is None:
            return UNKNOWN
        address, key, trusted = self._peer(peer)
        return None if trusted and address is not None else key

    def _classify(self, peer: str) -> tuple[IPAddress | None, str, bool]:
        address = parse_address(peer)
        if address is None:
            return None, peer, False
        return address, self.key(address), self.trusted(address)

    def trusted(self, address: IPAddress) -> bool:
        """Whether `address` is one of the trusted proxies."""
        return any(address in network for network in self.networks)

    def chain(self, headers: Headers) -> list[str | None]:
        """The forwarding chain, client first, from the `proxy_header` header alone."""
        if self.proxy_header == "forwarded":
            return forwarded_for(headers.get_all("forwarded"))
        lines = headers.get_all(self.proxy_header)
        return [hop for line in lines for hop in line.split(",")]

    def walk(self, peer: IPAddress, chain: list[str | None]) -> IPAddress:
        """The right-most untrusted address of `chain` seen from the trusted `peer`."""
        address = peer
        for hop in reversed(chain):
            if not self.trusted(address):
                break
            previous = parse_address(hop) if hop is not None else None
            if previous is None:
                break
            address = previous
        return address

    def key(self, address: IPAddress) -> str:
        """The canonical text of `address`; an IPv6 address stands for its /`ipv6_prefix`."""
        if isinstance(address, IPv6Address) and self.ipv6_prefix < 128:
            return str(ip_network((address, self.ipv6_prefix), strict=False))
        return str(address)
