"""Which webhook endpoints may be called: the URL's host is resolved and every address it
resolves to (IPv4 and IPv6) must be globally routable: loopback, private, link-local,
unspecified, carrier-grade NAT, documentation, multicast and other reserved ranges are refused
(an IPv4-mapped IPv6 address is judged as its IPv4 address), so a webhook cannot be aimed at
the program's own network. ``ECOM_WEBHOOKS_ALLOW_PRIVATE=1`` lifts the rule (a local receiver
in development and tests). Checked at registration and again before every delivery, since a
name may resolve elsewhere later."""

from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import urlsplit

from domain.errors import InvalidCommand

ALLOW_PRIVATE_ENV = "ECOM_WEBHOOKS_ALLOW_PRIVATE"


def private_allowed() -> bool:
    """Read when checking, so that one deployment setting governs every process."""
    return os.environ.get(ALLOW_PRIVATE_ENV, "0") in ("1", "true", "yes")


def refused(address: str) -> bool:
    """True for an address a webhook may not reach (see the module docstring)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def endpoint_host(url: str) -> str:
    """The host an endpoint URL names; ``InvalidCommand`` unless it is an absolute http(s) URL
    with a host, no credentials and no fragment."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError:
        raise InvalidCommand("The webhook URL is not a valid URL.", code="invalid_url") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidCommand("A webhook URL must be http or https.", code="invalid_url")
    if not parts.hostname or parts.username is not None or parts.fragment:
        raise InvalidCommand(
            "A webhook URL needs a host, and neither credentials nor a fragment.",
            code="invalid_url",
        )
    return parts.hostname


def check_endpoint(url: str, *, allow_private: bool | None = None) -> None:
    """``InvalidCommand`` (422) when the URL's host does not resolve or resolves to a refused
    address; nothing is checked when private addresses are allowed."""
    if private_allowed() if allow_private is None else allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise InvalidCommand(
            f"The webhook host {host!r} does not resolve.", code="url_unresolvable"
        ) from None
    bad = sorted({str(info[4][0]) for info in infos if refused(str(info[4][0]))})
    if bad or not infos:
        raise InvalidCommand(
            f"The webhook host {host!r} resolves to an address that is not public "
            f"({', '.join(bad)}).",
            code="url_not_allowed",
        )
